"""Browser tests: the real servers on loopback with the demo data (gunicorn for HTTP, uvicorn
for WebSockets, as `make run` serves them), driven by Debian's Chromium through Playwright.
They use their own SQLite file, never the test database."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from studyhall.testing import servers
from studyhall.testing.browser import CHROMIUM, CHROMIUM_FLAGS, close_browser, close_context

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


# The demo server's environment, for tests that must change its data behind the browser's back
# (the clock cannot be frozen in another process), through `run_in_demo`.
DEMO_ENV: dict[str, str] = {}


def run_in_demo(code: str) -> str:
    """Run Python in the demo server's database (`manage.py shell -c`); returns its output."""
    return _manage("shell", "--no-imports", "-c", code, env=DEMO_ENV)


# A management command that takes longer than this has hung; fail the test rather than wait.
COMMAND_TIMEOUT = 300


def _manage(*args: str, env: dict[str, str]) -> str:
    """`manage.py` with `args` in `env`; what it printed."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    return done.stdout.strip()


def _sqlite_env(database: Path) -> dict[str, str]:
    """The servers' environment (the shell's own database and Redis left out), on `database`."""
    return servers.server_env({"DATABASE_URL": f"sqlite://{database}"})


# Session scope (one per test worker): applying every migration to an empty SQLite file takes
# tens of seconds, so it is done once and each test file starts from a copy.
@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("e2e-migrated") / "migrated.sqlite3"
    _manage("migrate", "--noinput", env=_sqlite_env(database))
    return database


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the source may keep a write-ahead log)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# Module scope: each test file starts from the demo as seeded, so files do not depend on which
# ran before them (the suite runs them on several workers, in no fixed order).
@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path) -> Iterator[str]:
    """Copy the migrated SQLite file, load the demo, and serve it on loopback as `make run`
    does (gunicorn for HTTP, uvicorn for WebSockets)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium package.")
    workdir = tmp_path_factory.mktemp("e2e")
    with servers.redis(logdir=workdir) as redis_url:
        yield from _serve_demo(workdir, migrated_database, redis_url)


def _serve_demo(workdir: Path, migrated: Path, redis_url: str) -> Iterator[str]:
    database = workdir / "e2e.sqlite3"
    _copy_database(migrated, database)
    env = _sqlite_env(database) | {"REDIS_URL": redis_url}
    _manage("seed_demo", env=env)
    DEMO_ENV.clear()
    DEMO_ENV.update(env)
    try:
        with servers.site(env=env, logdir=workdir) as site:
            yield site.base
    except RuntimeError as exc:  # it did not start
        pytest.fail(str(exc))


# Module scope: Playwright's sync API runs an event loop while it is open, and Django refuses
# database calls from a thread with a running loop, so close it before other tests run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            close_browser(browser)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        close_context(context)


# Opens a page in a browser context of its own; keyword arguments go to `new_context`.
NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """One page per person, each in its own context (cookies, storage), 1280×900 unless the
    options say otherwise; every context is closed after the test."""
    made: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**{"viewport": VIEWPORT, **options})
        made.append(context)
        return context.new_page()

    try:
        yield open_page
    finally:
        for context in made:
            close_context(context)
