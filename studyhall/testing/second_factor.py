"""Second factors for personas: support agents and org admins must have one, so the factories
and the demo seed enrol them in TOTP with a known secret, and tests compute the codes."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.utils import timezone

from studyhall.accounts.models import User

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Base32, as authenticator apps take it. Only for tests and the demo: never a real account's.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TOTP_PERIOD = 30


def enrol_totp(user: User, secret: str = TEST_TOTP_SECRET) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def totp_code(secret: str = TEST_TOTP_SECRET, *, step: int = 0) -> str:
    """The code an authenticator app shows now (`step` periods ahead)."""
    counter = int(timezone.now().timestamp()) // TOTP_PERIOD + step
    return str(format_hotp_value(hotp_value(secret, counter)))


def pass_second_factor(page: Page, secret: str = TEST_TOTP_SECRET) -> None:
    """On allauth's "enter your code" page, type the code. A code works once, so several
    sign-ins within one 30-second period use the neighbouring periods' codes (allowed for
    clock drift, MFA_TOTP_TOLERANCE); once those are used up too (a sign-in may already have
    taken the next period's code), wait for a new period and try its neighbours again."""
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    tries = [(False, 0), (False, 1), (False, -1)] + [(True, 1), (False, 0)] * 3
    for wait, step in tries:
        if not re.search(r"/2fa/authenticate/", page.url):
            return
        if wait:
            time.sleep(TOTP_PERIOD - timezone.now().timestamp() % TOTP_PERIOD + 0.5)
        page.fill('input[name="code"]', totp_code(secret, step=step))
        page.locator('form button[type="submit"]').first.click()
        page.wait_for_load_state()
