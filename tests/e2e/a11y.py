"""What the accessibility browser tests share: the demo's people, signing in, the page list
walked from the URLconf, and axe-core (the copy that axe-playwright-python ships) run in the
page, with its results kept under var/test-artifacts/axe/."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from playwright.sync_api import ViewportSize

from studyhall.testing.browser import close_context
from studyhall.testing.second_factor import pass_second_factor
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "axe"
PASSWORD = "studyhall-demo"
# The roles, each as one of the demo's people; None is someone signed out.
ROLES: dict[str, str | None] = {
    "signed out": None,
    "student": "student@demo.test",
    "tutor": "tutor@demo.test",
    "support agent": "support@demo.test",
    "org admin": "admin@demo.test",
}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# What fails the build; moderate and minor findings are kept in the artifact.
FAILING = {"serious", "critical"}
# The WCAG 2.1 A and AA rules, and axe's best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations", "incomplete"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}
# URL prefixes that are not pages: the Django admin (operators only) and the JSON API.
NOT_PAGES = ("admin/", "api/", "favicon.ico")
# Pages that only send the browser on to another site (Stripe's onboarding).
LEAVES_THE_SITE = {"ledger:stripe_refresh", "ledger:stripe_return"}

# The online session under way in the demo, whose classroom is open.
UNDER_WAY = """
from studyhall.tutoring.models import Session
print(Session.objects.get(notes="Related rates").pk)
"""

_axe = Axe()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    pass_second_factor(page, DEMO_TOTP_SECRET)
    page.wait_for_load_state()


@dataclass(frozen=True)
class Route:
    """One named route of the URLconf: its full name and the names of its arguments."""

    name: str
    arguments: tuple[str, ...]


def _walk(
    resolver: URLResolver, prefix: str, namespace: str, arguments: tuple[str, ...]
) -> list[Route]:
    found: list[Route] = []
    for entry in resolver.url_patterns:
        here = (*arguments, *entry.pattern.regex.groupindex)
        route = prefix + str(entry.pattern).lstrip("^")
        if route.startswith(NOT_PAGES):
            continue
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            found.extend(_walk(entry, route, inner, here))
        elif isinstance(entry, URLPattern) and entry.name:
            name = ":".join(n for n in (namespace, entry.name) if n)
            if name not in LEAVES_THE_SITE:
                found.append(Route(name, here))
    return found


def routes() -> list[Route]:
    """Every named route of the URLconf that could be a page, with its arguments' names."""
    return _walk(get_resolver(), "", "", ())


def route_name(path: str) -> str | None:
    """The route a same-site path resolves to, or None."""
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def fill(route: Route, ids: dict[str, int | str]) -> str | None:
    """The route's path with the demo's ids put in, or None when one is unknown."""
    if any(name not in ids for name in route.arguments):
        return None
    return reverse(route.name, kwargs={name: ids[name] for name in route.arguments})


@dataclass
class Findings:
    """Every axe run's results by page view, and the failing ones."""

    views: list[dict[str, Any]] = field(default_factory=list)

    def check(self, page: Any, *, role: str, state: str, width: int) -> None:
        began = time.monotonic()
        # axe-core is put in the page once, then run at each width.
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(_axe.axe_script)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "tags": v["tags"],
                "nodes": [
                    {"target": n["target"], "html": n["html"], "summary": n.get("failureSummary")}
                    for n in v["nodes"]
                ],
            }
            for v in results["violations"]
        ]
        self.views.append(
            {
                "role": role,
                "state": state,
                "width": width,
                "url": _path(page.url),
                "title": page.title(),
                "violations": violations,
                "incomplete": [
                    {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
                    for v in results["incomplete"]
                ],
                "seconds": round(time.monotonic() - began, 2),
            }
        )

    def check_both_widths(self, page: Any, *, role: str, state: str) -> None:
        """At desktop width, then at a phone's, on the same loaded page."""
        self.check(page, role=role, state=state, width=DESKTOP["width"])
        page.set_viewport_size(PHONE)
        try:
            self.check(page, role=role, state=state, width=PHONE["width"])
        finally:
            page.set_viewport_size(DESKTOP)

    def failing(self) -> list[str]:
        return [
            f"{view['role']} · {view['state']} · {view['width']} px · {view['url']}: "
            f"{v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']]}"
            for view in self.views
            for v in view["violations"]
            if v["impact"] in FAILING
        ]

    def write(self, name: str, extra: dict[str, Any] | None = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.json"
        body = {"views": self.views, "failing": self.failing(), **(extra or {})}
        path.write_text(json.dumps(body, indent=2, sort_keys=True))
        return path


# The ids the URLconf's arguments take in the demo (run with run_in_demo).
DEMO_IDS = """
import json
import re
from django.utils import timezone
from studyhall.accounts.models import User
from studyhall.orgs.models import Course, Organization
org = Organization.objects.get(slug="demo-university")
print(json.dumps({
    "org_id": org.pk,
    "user_id": User.objects.get(email="tutor@demo.test").pk,
    "course_id": Course.objects.filter(organization=org).order_by("pk").first().pk,
    "year": timezone.now().year,
}))
"""


# How many more pages of one route the sweep reads for links (without checking them again).
EXTRA_PER_ROUTE = 12
HREF = re.compile(r'href="([^"#]+)"')


def sweep_role(page: Any, base: str, role: str, ids: dict[str, Any], found: Findings) -> dict:
    """Visit each route once for this role: the ones the URLconf and the ids name, then the
    ones the pages link to. Refusal pages (403, 404) are checked once per kind."""
    table = routes()
    queue: deque[tuple[str, str]] = deque()
    for route in table:
        path = fill(route, ids)
        if path is not None:
            queue.append((route.name, path))
    seen: set[str] = set()
    fetched: dict[str, int] = {}
    refusals: set[int] = set()
    outcome: dict[str, str] = {}
    names = {r.name for r in table}

    def harvest(hrefs: list[str]) -> None:
        for href in hrefs:
            parts = urlsplit(href if "://" in href else base + href)
            if f"{parts.scheme}://{parts.netloc}" != base:
                continue
            linked = route_name(parts.path)
            if linked in names and linked not in seen:
                queue.append((linked, parts.path))

    while queue:
        name, path = queue.popleft()
        if name in seen:
            # Another page of a route already checked: read its links, to reach the pages
            # only some of them lead to (a session's classroom, a request's review).
            if fetched.get(name, 0) < EXTRA_PER_ROUTE and path not in fetched:
                fetched[name] = fetched.get(name, 0) + 1
                fetched[path] = 1
                answer = page.request.get(base + path, max_redirects=0)
                if answer.ok and answer.headers.get("content-type", "").startswith("text/html"):
                    harvest(HREF.findall(answer.text()))
            continue
        seen.add(name)
        fetched[path] = 1
        answer = page.request.get(base + path, max_redirects=0)
        kind = answer.headers.get("content-type", "")
        if answer.status in (301, 302, 303, 307, 308):
            outcome[name] = f"{answer.status} to {answer.headers.get('location')}"
            continue
        if answer.status == 405 or not kind.startswith("text/html"):
            outcome[name] = f"{answer.status} {kind or 'no body'}: not HTML"
            continue
        if not answer.text().lstrip().lower().startswith("<!doctype html"):
            outcome[name] = f"{answer.status}: a fragment for htmx"
            continue
        if answer.status >= 400:
            outcome[name] = f"{answer.status} refusal page"
            if answer.status in refusals:
                continue
            refusals.add(answer.status)
        else:
            outcome[name] = f"{answer.status} page"
        page.goto(base + path)
        found.check_both_widths(page, role=role, state=f"resting ({name})")
        harvest(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))
    return outcome


def sweep(
    browser: Any, base: str, ids: dict[str, Any], roles: tuple[str, ...], name: str
) -> tuple[Findings, dict[str, dict[str, str]]]:
    """Sweep each role's pages in a context of its own; the results are written as `name`."""
    found = Findings()
    outcomes: dict[str, dict[str, str]] = {}
    for role in roles:
        email = ROLES[role]
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            if email is not None:
                sign_in(page, base, email)
            outcomes[role] = sweep_role(page, base, role, ids, found)
        finally:
            close_context(context)
    found.write(name, {"routes": outcomes})
    return found, outcomes


def swept_routes(outcomes: dict[str, dict[str, str]]) -> set[str]:
    """The routes that were checked as pages, for any role."""
    return {name for by_role in outcomes.values() for name, o in by_role.items() if "page" in o}
