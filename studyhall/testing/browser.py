"""How Studyhall's browser tests and scripts start Debian's Chromium (never a downloaded one),
and close it."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's services, which a
# closed test network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# For the classroom: fake camera and microphone, no permission prompt, and WebRTC allowed to
# connect over loopback.
WEBRTC_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


# Long enough for a busy machine; a blank page needs no server.
BLANK_TIMEOUT_MS = 30_000


def close_context(context: BrowserContext) -> None:
    """Close a Playwright browser context without racing a navigation.

    Chromium can acknowledge closing a page whose navigation is committing at that moment and
    then never close it, so closing its context waits forever. Pages here navigate on their own
    (leaving a call goes to the session's page, an ended call follows after a delay), so each
    open page is first sent to about:blank: once that has loaded, the old document and its
    timers are gone and nothing else navigates while the context closes."""
    from playwright.sync_api import Error as PlaywrightError

    for page in context.pages:  # the open ones
        # A navigation the page started may interrupt this one; the page is blank either way
        # once it returns or fails.
        with contextlib.suppress(PlaywrightError):
            page.goto("about:blank", timeout=BLANK_TIMEOUT_MS)
    context.close()


def close_browser(browser: Browser) -> None:
    """Close every context of `browser` as `close_context` does, then the browser."""
    for context in list(browser.contexts):
        close_context(context)
    browser.close()
