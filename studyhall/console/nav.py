"""The console's navigation and home panels, open to higher apps.

An app above the console (reports, feeds, identity) adds its page to every console page's
navigation in its AppConfig.ready: `nav.register(NavItem("Reports", "feeds:reports", 60))`.
Its URL must take the organization id as `org_id`, like every console URL. A home panel is a
template rendered on the console home with the context its function returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from studyhall.orgs.models import Organization


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int
    # The URL names (beyond url_name) under which this item is the current page.
    also_current: tuple[str, ...] = ()


@dataclass(frozen=True)
class HomePanel:
    template: str
    context: Callable[[Organization], Mapping[str, Any]]
    order: int


_nav: dict[str, NavItem] = {}
_panels: dict[str, HomePanel] = {}


def register(item: NavItem) -> None:
    _nav[item.url_name] = item


def register_home_panel(name: str, panel: HomePanel) -> None:
    _panels[name] = panel


def nav_items() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda i: (i.order, i.label))


def home_panels() -> list[HomePanel]:
    return sorted(_panels.values(), key=lambda p: p.order)


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


def links_for(organization: Organization, current_url_name: str) -> list[NavLink]:
    return [
        NavLink(
            item.label,
            reverse(item.url_name, kwargs={"org_id": organization.pk}),
            current_url_name == item.url_name or current_url_name in item.also_current,
        )
        for item in nav_items()
    ]


def register_defaults() -> None:
    register(NavItem("Home", "console:home", 0))
    register(
        NavItem(
            "Sessions", "console:sessions", 10, ("console:session_new", "console:session_cancel")
        )
    )
    register(NavItem("People", "console:people", 20, ("console:person",)))
    register(NavItem("Courses", "console:courses", 30, ("console:course", "console:course_new")))
    register(NavItem("Tutor approvals", "console:approvals", 40))
    register(NavItem("Programs", "console:programs", 45, ("console:program",)))
    register(NavItem("Roster import", "console:roster", 50, ("console:roster_import",)))
    register(NavItem("Policy", "console:policy", 90))
