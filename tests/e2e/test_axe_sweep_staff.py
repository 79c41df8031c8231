"""axe-core over every page for a support agent and an organization admin, at desktop and phone
widths. The pages come from the URLconf: every named route without arguments, those whose
arguments the demo's ids fill, and any route a visited page links to, so a new page is swept
without an edit here. A serious or critical finding fails; every result is kept as JSON under
var/test-artifacts/axe/sweep-staff.json. The roles are shared between this file and
test_axe_sweep.py so that the suite's workers run them side by side."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from tests.e2e.a11y import DEMO_IDS, sweep, swept_routes
from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e


def test_axe_sweep_finds_nothing_serious_on_any_page_for_support_and_admins(
    demo_server: str, browser: Browser
) -> None:
    ids = json.loads(run_in_demo(DEMO_IDS))
    found, outcomes = sweep(
        browser, demo_server, ids, ("support agent", "org admin"), "sweep-staff"
    )
    failing = found.failing()
    assert not failing, (
        f"{len(failing)} failing (see var/test-artifacts/axe/sweep-staff.json):\n"
        + ("\n".join(failing))
    )
    # The sweep reached the site: the main pages of each role, at both widths.
    assert len(found.views) >= 170, len(found.views)
    assert {"console:home", "support:inbox"} <= swept_routes(outcomes)
