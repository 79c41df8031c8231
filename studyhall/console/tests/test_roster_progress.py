"""Applying a roster reports how far it has got; the import page shows it live."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from conftest import Cast
from studyhall.console import progress
from studyhall.console.models import ImportStatus, RosterImport
from studyhall.console.progress import Progress
from studyhall.console.services.roster import STEPS, apply_roster
from studyhall.console.tests.conftest import signed_in
from studyhall.console.tests.test_roster import GOOD, check


def _url(cast: Cast, roster: RosterImport, name: str) -> str:
    return reverse(name, kwargs={"org_id": cast.org.pk, "import_id": roster.pk})


def test_applying_reports_each_step_until_all_is_done(cast: Cast) -> None:
    roster = check(cast, GOOD)
    seen: list[Progress] = []
    with transaction.atomic():
        apply_roster(
            organization_id=cast.org.pk, import_id=roster.pk, actor=cast.admin, progress=seen.append
        )
    assert [p.step for p in seen] == sorted(p.step for p in seen)
    assert {p.step for p in seen} == {1, 2, 3, 4, 5}
    assert {p.label for p in seen} == set(STEPS)
    finished = {p.step: p for p in seen}  # the last report of each step
    # Step 2: 1 new course (BIO 101; CHEM 110 exists), 3 accounts and 3 members.
    assert (finished[2].done, finished[2].total) == (7, 7)
    # Step 4: 4 roles, 3 enrollments and 1 approval.
    assert (finished[4].done, finished[4].total) == (8, 8)
    assert all(p.done == p.total for p in finished.values())
    assert seen[-1].percent == 100
    assert seen[0] == Progress(1, 5, STEPS[0], 0, 3)


def test_a_second_apply_changing_nothing_still_finishes(cast: Cast) -> None:
    roster = check(cast, GOOD)
    with transaction.atomic():
        apply_roster(organization_id=cast.org.pk, import_id=roster.pk, actor=cast.admin)
    seen: list[Progress] = []
    with transaction.atomic():
        apply_roster(
            organization_id=cast.org.pk, import_id=roster.pk, actor=cast.admin, progress=seen.append
        )
    assert seen[-1] == Progress(5, 5, STEPS[4], 0, 0)
    assert seen[-1].percent == 100


def test_the_import_page_asks_for_progress_once_applying_starts(cast: Cast) -> None:
    roster = check(cast, GOOD)
    page = signed_in(cast.admin).get(_url(cast, roster, "console:roster_import")).content.decode()
    assert (
        '<div id="apply-progress" class="roster-progress" role="status" aria-live="polite" '
        f'hx-get="{_url(cast, roster, "console:roster_progress")}" '
        'hx-trigger="htmx:beforeRequest from:#apply-form"'
    ) in page
    assert '<form id="apply-form"' in page


def test_the_progress_endpoint_says_how_far_it_has_got(cast: Cast) -> None:
    roster = check(cast, GOOD)
    client = signed_in(cast.admin)
    url = _url(cast, roster, "console:roster_progress")
    waiting = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Importing 3 rows…" in waiting
    assert f'hx-get="{url}" hx-trigger="load delay:1s"' in waiting

    progress.report(roster.pk, Progress(2, 5, STEPS[1], 4000, 20000))
    running = client.get(url).content.decode()
    assert "step 2 of 5: Adding courses and people, 4,000 of 20,000." in running
    assert '<progress value="24" max="100" aria-label="Import progress">24%</progress>' in running
    assert 'hx-trigger="load delay:1s"' in running


def test_once_applied_the_endpoint_stops_asking(cast: Cast) -> None:
    roster = check(cast, GOOD)
    client = signed_in(cast.admin)
    response = client.post(_url(cast, roster, "console:roster_apply"))
    assert response.status_code == 302
    roster.refresh_from_db()
    assert roster.status == ImportStatus.APPLIED
    assert progress.current(roster.pk) is None  # cleared when the import ended
    done = client.get(_url(cast, roster, "console:roster_progress")).content.decode()
    assert "Applied " in done
    assert "hx-trigger" not in done
