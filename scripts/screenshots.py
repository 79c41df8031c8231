"""Take the README's screenshots: a fresh demo database, a real server, Debian's Chromium.

make screenshots   # writes docs/img/*.png
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import django
from playwright.sync_api import Page, sync_playwright

from studyhall.testing import servers
from studyhall.testing.browser import CHROMIUM, CHROMIUM_FLAGS, close_browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"


@contextmanager
def serve(workdir: Path) -> Iterator[str]:
    """The demo, served as `make run` serves it (gunicorn, uvicorn for /ws/, Redis)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite://{workdir / 'shots.sqlite3'}"
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([*manage, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    with (
        servers.redis(logdir=workdir) as redis_url,
        servers.site(env={**env, "REDIS_URL": redis_url}, logdir=workdir) as site,
    ):
        yield site.base


def sign_in(browser: Any, base: str, email: str, *, width: int = 1100) -> Page:
    """A new page signed in as one of the demo's people; the org admin and the support agent
    also type their authenticator code, as they would."""
    # Django's settings are set up in main(): these modules read models.
    from studyhall.testing.second_factor import pass_second_factor
    from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET

    page: Page = browser.new_page(viewport={"width": width, "height": 900 if width > 500 else 844})
    page.set_default_timeout(120_000)  # a busy machine is slow, not broken
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    pass_second_factor(page, DEMO_TOTP_SECRET)
    page.wait_for_load_state()
    return page


def tutor_shots(browser: Any, base: str) -> None:
    """The tutor: the Sessions tab, a session ready to complete, a refused recap, a phone."""
    page = sign_in(browser, base, "tutor@demo.test")
    page.screenshot(path=OUT / "sessions-tab.png", full_page=True)
    row = page.locator("#needs-completion li, #needs-completion tr")
    row.filter(has_text="CHEM 110").filter(has_text="closes in").first.get_by_role(
        "link"
    ).first.click()
    page.screenshot(path=OUT / "session-details.png", full_page=True)
    page.get_by_role("link", name="Complete Session").click()
    page.get_by_label("Time spent").select_option("55")
    page.get_by_label("Topics covered").fill("Limiting reagents.")
    page.get_by_label("How your tutee did").fill("Did well.")
    page.get_by_label("Next steps").fill("More practice.")
    page.get_by_role("button", name="Log time").click()
    page.get_by_role("alert").wait_for()
    page.screenshot(path=OUT / "complete-refused.png", full_page=True)
    # The session whose logging closed 80 hours ago goes to Support, for the agent's pictures.
    page.goto(f"{base}/sessions/")
    page.get_by_role("link", name="Ask Support to log this session").first.click()
    page.select_option('select[name="minutes"]', "60")
    recap = {
        "topics_covered": "Integration by parts, with four problems from the textbook.",
        "tutee_progress": "They chose u and dv well on their own by the third problem.",
        "next_steps": "Work the chapter review set and bring any questions next week.",
    }
    for name, text in recap.items():
        page.fill(f'textarea[name="{name}"]', text)
    page.fill('textarea[name="reason"]', "I was travelling and forgot to log it.")
    page.get_by_role("button", name="Send to Support").click()
    page.wait_for_load_state()
    phone = sign_in(browser, base, "tutor@demo.test", width=390)
    phone.screenshot(path=OUT / "sessions-tab-phone.png", full_page=True)
    phone.goto(f"{base}/earnings/transactions/")
    phone.screenshot(path=OUT / "transactions-phone.png", full_page=True)


def student_shots(browser: Any, base: str) -> None:
    """The student: their sessions, and booking a tutor for a course."""
    page = sign_in(browser, base, "student@demo.test")
    page.screenshot(path=OUT / "student-sessions.png", full_page=True)
    page.goto(f"{base}/sessions/book/")
    page.screenshot(path=OUT / "student-book.png", full_page=True)


def support_shots(browser: Any, base: str) -> None:
    """The support agent: the inbox, and the tutor's request to log a session late."""
    page = sign_in(browser, base, "support@demo.test")
    page.goto(f"{base}/support/inbox/")
    page.screenshot(path=OUT / "support-inbox.png", full_page=True)
    page.locator('a[href*="/support/late-log/"]').first.click()
    page.screenshot(path=OUT / "support-late-log.png", full_page=True)


def console_shots(browser: Any, base: str, tmp: Path) -> None:
    """The org admin's console: home, a flagged session, a person, a roster dry run, policy."""
    page = sign_in(browser, base, "admin@demo.test")
    page.wait_for_url(re.compile(r"/console/\d+/$"))
    page.screenshot(path=OUT / "console-home.png", full_page=True)
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Sessions").click()
    page.get_by_label("Flagged only").check()
    page.locator("#session-results").get_by_text("1 session.").wait_for()
    page.screenshot(path=OUT / "console-sessions-flagged.png", full_page=True)
    nav.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Priya Natarajan").click()
    page.screenshot(path=OUT / "console-person.png", full_page=True)
    roster = tmp / "roster.csv"
    roster.write_text(
        "school_id,email,name,roles,enrolled_courses,tutor_courses,status\n"
        "S-9001,nora@demo.test,Nora Quinn,student,CHEM 110;MATH 151,,\n"
        "S-9002,omar@demo.test,Omar Haddad,tutor,,CS 101,\n"
        "S-9003,not-an-email,Pat,student,,,\n"
    )
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Roster import").click()
    page.get_by_label("Roster CSV file").set_input_files(str(roster))
    page.get_by_role("button", name="Check the file (dry run)").click()
    page.screenshot(path=OUT / "console-roster-dry-run.png", full_page=True)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Policy").click()
    page.screenshot(path=OUT / "console-policy.png", full_page=True)
    phone = sign_in(browser, base, "admin@demo.test", width=390)
    phone.wait_for_url(re.compile(r"/console/\d+/$"))
    phone.screenshot(path=OUT / "console-home-phone.png", full_page=True)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp)) as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tutor_shots(browser, base)
        student_shots(browser, base)
        support_shots(browser, base)
        console_shots(browser, base, Path(tmp))
        close_browser(browser)


if __name__ == "__main__":
    main()
