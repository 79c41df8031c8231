"""Every date and time a page shows is a `<time datetime=...>` element (WCAG 2.1 1.3.1: what a
date means is in the markup, for assistive technology and for the browser's own tools).

The demo is seeded into the test database and each role's pages are walked as the axe sweep
walks them: every named route of the URLconf the demo's ids fill, then the pages they link to.
A text node outside `<time>` that reads as a date or a time of day fails, with the page and
the words around it."""

from __future__ import annotations

import io
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.orgs.models import Course, Organization
from tests.e2e.a11y import ROLES, fill, route_name, routes

MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# The shapes the templates' date filters and the locale write: "Dec 2", "December 2, 2026",
# "Dec. 2", "3:05 PM", "3:05 p.m.", "14:05:33" and "2026-12-02".
DATE_OR_TIME = re.compile(
    rf"\b{MONTH} \d{{1,2}}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\s?(?:AM|PM|a\.m\.|p\.m\.)"
    r"|\b\d{1,2}:\d{2}:\d{2}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
)
# Text that may not hold elements (so a `<time>` cannot go there), and text not shown. An SVG
# chart cannot hold HTML's `<time>` either; each is an image named by its title, with its
# numbers in a table beside it.
TEXT_ONLY = {"option", "textarea", "title", "script", "style", "template", "svg"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
RECORDED = "recorded text"
HREF = re.compile(r'href="([^"#]+)"')
# More pages of a route already read, for the links only some of them have.
EXTRA_PER_ROUTE = 6
# Only what a page answers is read: never a download, nor an action's answer.
NOT_READ = ("/accounts/logout/", "/export", ".csv", ".ics")


class _Bare(HTMLParser):
    """Collects the text nodes outside `<time>` (and outside text-only elements)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            # Text written down once and kept as it was (a ledger entry's description) is
            # shown as recorded; the row's own date beside it is a <time>.
            self.stack.append(RECORDED if any(n == "data-recorded-text" for n, _ in attrs) else tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if (
            tag == "span"
            and RECORDED in self.stack
            and "span" not in self.stack[self.stack.index(RECORDED) :]
        ):
            tag = RECORDED
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "time" in self.stack or (TEXT_ONLY | {RECORDED}) & set(self.stack):
            return
        if "body" not in self.stack:
            return
        for match in DATE_OR_TIME.finditer(data):
            start, end = max(0, match.start() - 30), match.end() + 30
            self.found.append(" ".join(data[start:end].split()))


def bare_dates(html: str) -> list[str]:
    """The dates and times in the page's text that no `<time>` element holds."""
    parser = _Bare()
    parser.feed(html)
    parser.close()
    return parser.found


@dataclass
class Walk:
    pages: int = 0
    bare: dict[str, set[str]] = field(default_factory=dict)


def _walk_role(client: Client, ids: dict[str, int | str], walk: Walk) -> None:
    table = routes()
    names = {r.name for r in table}
    queue: deque[tuple[str, str]] = deque()
    for route in table:
        path = fill(route, ids)
        if path is not None:
            queue.append((route.name, path))
    read: set[str] = set()
    per_route: dict[str, int] = {}
    while queue:
        name, path = queue.popleft()
        if path in read or any(part in path for part in NOT_READ):
            continue
        if per_route.get(name, 0) > EXTRA_PER_ROUTE:
            continue
        read.add(path)
        per_route[name] = per_route.get(name, 0) + 1
        response = client.get(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        if not html.lstrip().lower().startswith("<!doctype html"):
            continue
        walk.pages += 1
        for text in bare_dates(html):
            walk.bare.setdefault(text, set()).add(f"{name} ({path})")
        for href in HREF.findall(html):
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/"):
                continue
            linked = route_name(parts.path)
            if linked in names:
                queue.append((linked, parts.path))


@pytest.mark.django_db
def test_every_date_and_time_a_page_shows_is_a_time_element() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    org = Organization.objects.get(slug="demo-university")
    ids: dict[str, int | str] = {
        "org_id": org.pk,
        "user_id": User.objects.get(email="tutor@demo.test").pk,
        "course_id": Course.objects.filter(organization=org).order_by("pk").first().pk,  # type: ignore[union-attr]
        "year": timezone.now().year,
    }
    walk = Walk()
    for email in ROLES.values():
        client = Client()
        if email is not None:
            client.force_login(User.objects.get(email=email))
        _walk_role(client, ids, walk)
    failing = [f"{text!r} on {', '.join(sorted(where)[:3])}" for text, where in walk.bare.items()]
    assert not failing, f"{len(failing)} dates or times outside <time>:\n" + "\n".join(failing)
    assert walk.pages >= 100, walk.pages


def test_the_check_finds_a_bare_date_and_passes_a_time_element() -> None:
    page = (
        "<!doctype html><html><head><title>Dec 2</title></head><body>"
        "<p>Booked <time datetime='2026-12-02T15:00'>Wed, Dec 2, 3:00 PM EST</time>.</p>"
        "<p>Closes Dec 3 at 4:30 PM.</p>"
        "<select><option>Dec 4, 9:00 AM</option></select>"
        "<script>const at = '2026-12-02';</script>"
        "<p>Checked at 14:05:33, from 2026-12-01.</p>"
        "</body></html>"
    )
    assert bare_dates(page) == [
        "Closes Dec 3 at 4:30 PM.",
        "Closes Dec 3 at 4:30 PM.",
        "Checked at 14:05:33, from 2026-12-01.",
        "Checked at 14:05:33, from 2026-12-01.",
    ]
