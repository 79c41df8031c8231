"""A web worker holds only what serving needs: the large libraries that only some requests or
the task worker use are imported where they are used, not when the URLconf loads. Checked in a
fresh interpreter, since the test process has imported everything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The payout and SFTP clients, the webhook sender's HTTP client, the iCalendar library and
# python3-saml with lxml and xmlsec.
LAZY = ("stripe", "asyncssh", "httpx", "icalendar", "onelogin", "lxml", "xmlsec")
PROBE = """
import sys
import config.asgi
from django.urls import get_resolver
get_resolver().url_patterns
print(",".join(name for name in {lazy!r} if name in sys.modules))
"""


def test_serving_does_not_import_what_only_some_requests_use() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(lazy=LAZY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""
