"""Reflow (WCAG 2.1 1.4.10): each main page at 320 CSS pixels, the width of a 1280-pixel
window at 400 % zoom (and narrower than one at 200 %), scrolls only up and down. A picture of
each is kept under var/test-artifacts/narrow/; with STUDYHALL_SCREENSHOTS=1 (`make
screenshots`) also under docs/img/narrow/, the pictures the accessibility report shows."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from studyhall.testing.browser import close_context
from tests.e2e.a11y import ROLES, ROOT, sign_in

pytestmark = pytest.mark.e2e

NARROW: ViewportSize = {"width": 320, "height": 720}
OUT = [ROOT / "var" / "test-artifacts" / "narrow"]
if os.environ.get("STUDYHALL_SCREENSHOTS") == "1":
    OUT.append(ROOT / "docs" / "img" / "narrow")

# Each role's main pages: (picture name, path; {org} is the admin's organization).
MAIN_PAGES: dict[str, list[tuple[str, str]]] = {
    "signed out": [("sign-in", "/accounts/login/")],
    "student": [
        ("student-sessions", "/sessions/"),
        ("book", "/sessions/book/"),
        ("notifications", "/notifications/"),
        ("settings", "/settings/"),
        ("support-chat", "/support/chat/"),
        ("my-data", "/privacy/"),
    ],
    "tutor": [
        ("tutor-sessions", "/sessions/"),
        ("session-details", "first-session"),
        ("complete-session", "first-complete"),
        ("transactions", "/earnings/transactions/"),
        ("earnings-settings", "/earnings/settings/"),
        ("tutor-courses", "/settings/courses/"),
    ],
    "support agent": [("support-inbox", "/support/inbox/")],
    "org admin": [
        ("console-home", "/console/{org}/"),
        ("console-sessions", "/console/{org}/sessions/"),
        ("console-people", "/console/{org}/people/"),
        ("console-courses", "/console/{org}/courses/"),
        ("console-approvals", "/console/{org}/approvals/"),
        ("console-roster", "/console/{org}/roster/"),
        ("console-policy", "/console/{org}/policy/"),
        ("console-reports", "/console/{org}/reports/"),
        ("payouts", "/earnings/admin/"),
    ],
}


def _overflow(page: Page) -> list[str]:
    """What sticks out past the right edge, when the page scrolls sideways."""
    return list(
        page.evaluate(
            """() => {
              const root = document.documentElement;
              if (root.scrollWidth <= root.clientWidth) return [];
              return [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
                .slice(0, 8)
                .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""));
            }"""
        )
    )


def _resolve(page: Page, base: str, path: str) -> str:
    """A path, or the tutor's session that is ready to complete (its page, its form)."""
    if path in {"first-session", "first-complete"}:
        page.goto(f"{base}/sessions/")
        row = page.locator("#needs-completion li").filter(has_text="CHEM 110")
        href = (
            row.filter(has_text="closes in").first.get_by_role("link").first.get_attribute("href")
        )
        return f"{base}{href}" + ("complete/" if path == "first-complete" else "")
    return f"{base}{path}"


def test_main_pages_reflow_at_320_px(demo_server: str, browser: Browser) -> None:
    wide: list[str] = []
    shots = 0
    for role, email in ROLES.items():
        context = browser.new_context(viewport=NARROW)
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            if email is not None:
                sign_in(page, demo_server, email)
            org = next(iter(re.findall(r"/console/(\d+)/", page.url)), "")
            for name, path in MAIN_PAGES[role]:
                page.goto(_resolve(page, demo_server, path.format(org=org)))
                sizes = page.evaluate(
                    "() => [document.documentElement.scrollWidth,"
                    " document.documentElement.clientWidth]"
                )
                if sizes[0] > sizes[1]:
                    wide.append(f"{role} {name} {page.url}: {sizes} {_overflow(page)}")
                for folder in OUT:
                    folder.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=Path(folder, f"{name}.png"), full_page=True)
                shots += 1
        finally:
            close_context(context)
    assert not wide, "\n".join(wide)
    assert shots == sum(len(pages) for pages in MAIN_PAGES.values())
