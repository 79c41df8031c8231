"""Apps depend only downward, in the order written in docs/architecture.md.

Every Python import in `studyhall/` (module level, inside functions, behind TYPE_CHECKING) and
every template dependency (`{% load %}` of a tag library, `{% include %}` and `{% extends %}`)
is an edge from the app that holds the file to the app it names. An edge to a higher app, or
between two apps of the same tier, fails. A lower page that shows something from a higher app
asks `studyhall.web.panels` instead, where the higher app registers it.

Tests and the test factories (`studyhall/testing/`) sit above every app: they may use any of
them, and no app's own code may import them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "studyhall"
PROJECT_TEMPLATES = ROOT / "templates"
ORDER = (
    "core < accounts < web < orgs < notifications < ledger < tutoring"
    " < calls | support | calendars < console < feeds | identity < api"
)
# Test support: above every app, and never imported by an app's own code.
TEST_SUPPORT = "testing"
# The project's own templates (base.html, the error pages, allauth's pages) are the site
# chrome: what they load and include is checked as the web layer's. Every app's pages may
# extend them (the account pages too, though accounts sits below web): the layout is the frame
# a page goes into, as config/ is the frame the apps go into.
PROJECT_TEMPLATES_APP = "web"


def tiers(order: str) -> dict[str, int]:
    """Each app's tier: a lower number is lower in the order."""
    return {
        app.strip(): tier
        for tier, apps in enumerate(order.split("<"))
        for app in apps.split("|")
        if app.strip()
    }


@dataclass(frozen=True)
class Edge:
    where: str
    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.where}: {self.source} -> {self.target}"


def is_test_code(path: Path, package: Path) -> bool:
    parts = path.relative_to(package).parts
    return "tests" in parts or parts[0] == TEST_SUPPORT or path.name == "conftest.py"


def app_of_module(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "studyhall" or len(parts) < 2:
        return None
    return parts[1]


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "studyhall":
                # `from studyhall import tutoring` names the app in the alias.
                for alias in node.names:
                    yield node.lineno, f"studyhall.{alias.name}"
            else:
                yield node.lineno, node.module


def python_edges(package: Path) -> Iterator[Edge]:
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if len(relative.parts) < 2 or is_test_code(path, package):
            continue
        source = relative.parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported_modules(tree):
            target = app_of_module(module)
            if target is not None and target != source:
                yield Edge(f"studyhall/{relative}:{line}", source, target)


TAG = re.compile(r"{%\s*(load|include|extends)\s+(.*?)\s*%}", re.DOTALL)
QUOTED = re.compile(r"""^(["'])(.+?)\1""")


def tag_libraries(package: Path) -> dict[str, str]:
    """Which app each of Studyhall's template tag libraries belongs to."""
    return {
        path.stem: path.relative_to(package).parts[0]
        for path in package.glob("*/templatetags/*.py")
        if path.stem != "__init__"
    }


def template_homes(package: Path) -> dict[str, str]:
    """Which app each of the apps' templates belongs to, by its name in the loader."""
    homes = {}
    for folder in sorted(package.glob("*/templates")):
        app = folder.parent.name
        for path in folder.rglob("*"):
            if path.is_file():
                homes[str(path.relative_to(folder))] = app
    return homes


def template_edges(package: Path, project_templates: Path) -> Iterator[Edge]:
    libraries = tag_libraries(package)
    homes = template_homes(package)
    sources = [(path, PROJECT_TEMPLATES_APP) for path in sorted(project_templates.rglob("*"))]
    for folder in sorted(package.glob("*/templates")):
        sources += [(path, folder.parent.name) for path in sorted(folder.rglob("*"))]
    for path, source in sources:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for match in TAG.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(package.parent)}:{line}"
            word, rest = match.groups()
            if word == "load":
                names = rest.split()
                if "from" in names:  # {% load tag_a tag_b from library %}
                    names = names[names.index("from") + 1 :]
                # Django's and other packages' libraries are not an app's.
                targets = [libraries[name] for name in names if name in libraries]
            else:
                quoted = QUOTED.match(rest)
                # A name held in a variable comes from Python (a registered panel), whose
                # imports are checked above; templates of installed packages are no app's.
                name = quoted.group(2) if quoted else None
                targets = [homes[name]] if name in homes else []
            for target in targets:
                if target != source:
                    yield Edge(where, source, target)


def edges_against(order: dict[str, int], edges: Iterator[Edge]) -> list[Edge]:
    """The edges that do not go down the order."""
    wrong = []
    for edge in edges:
        if edge.source not in order:
            raise AssertionError(f"{edge.where}: the app {edge.source!r} is not in the order")
        if (
            edge.target == TEST_SUPPORT
            or edge.target not in order
            or order[edge.target] >= order[edge.source]
        ):
            wrong.append(edge)
    return wrong


def test_the_order_is_the_one_written_down() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    written = re.search(r"^ {4}(core < .*?)\n\n", text, re.MULTILINE | re.DOTALL)
    assert written is not None, "docs/architecture.md must show the app order, indented"
    assert " ".join(written.group(1).split()) == " ".join(ORDER.split())


def test_every_app_is_in_the_order() -> None:
    apps = {path.parent.name for path in PACKAGE.glob("*/__init__.py")} - {TEST_SUPPORT}
    assert sorted(apps - set(tiers(ORDER))) == []


def test_python_imports_go_down_the_order() -> None:
    assert [str(e) for e in edges_against(tiers(ORDER), python_edges(PACKAGE))] == []


def test_templates_go_down_the_order() -> None:
    edges = template_edges(PACKAGE, PROJECT_TEMPLATES)
    assert [str(e) for e in edges_against(tiers(ORDER), edges)] == []


# -- the test of the test: a synthetic project with one upward edge of each kind ------------


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    package, templates = tmp_path / "studyhall", tmp_path / "templates"
    write(package, "core/__init__.py", "")
    write(package, "tutoring/__init__.py", "")
    write(package, "tutoring/templatetags/sessions.py", "")
    write(package, "calls/__init__.py", "")
    write(package, "calls/templatetags/classroom.py", "")
    write(package, "calls/templates/calls/_entry.html", "")
    write(package, "support/__init__.py", "")
    write(package, "testing/factories.py", "from studyhall.calls import models\n")
    write(templates, "base.html", "{% load static %}")
    return package, templates


def test_a_downward_import_passes(project: tuple[Path, Path]) -> None:
    package, _ = project
    write(package, "calls/services.py", "from studyhall.tutoring.models import Session\n")
    write(package, "calls/views.py", "import studyhall.core.errors\nfrom studyhall import core\n")
    write(package, "calls/tests/test_x.py", "from studyhall.testing import factories\n")
    assert edges_against(tiers(ORDER), python_edges(package)) == []


@pytest.mark.parametrize(
    "code",
    [
        "from studyhall.calls.services import join\n",
        "import studyhall.calls.services\n",
        "from studyhall import calls\n",
        "def f():\n    from studyhall.calls import services\n    return services\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from studyhall.calls import x\n",
    ],
)
def test_an_upward_import_is_caught(project: tuple[Path, Path], code: str) -> None:
    package, _ = project
    write(package, "tutoring/services.py", code)
    wrong = edges_against(tiers(ORDER), python_edges(package))
    assert [(e.where.rsplit(":", 1)[0], e.source, e.target) for e in wrong] == [
        ("studyhall/tutoring/services.py", "tutoring", "calls")
    ]


def test_an_import_between_peers_is_caught(project: tuple[Path, Path]) -> None:
    package, _ = project
    write(package, "support/views.py", "from studyhall.calls.models import CallEvent\n")
    wrong = edges_against(tiers(ORDER), python_edges(package))
    assert [str(e) for e in wrong] == ["studyhall/support/views.py:1: support -> calls"]


def test_app_code_importing_test_support_is_caught(project: tuple[Path, Path]) -> None:
    package, _ = project
    write(package, "calls/views.py", "\n\nfrom studyhall.testing import factories\n")
    wrong = edges_against(tiers(ORDER), python_edges(package))
    assert [str(e) for e in wrong] == ["studyhall/calls/views.py:3: calls -> testing"]


@pytest.mark.parametrize(
    ("template", "target"),
    [
        ("{% load classroom %}", "calls"),
        ("{% load static classroom %}", "calls"),
        ("{% load classroom_entry from classroom %}", "calls"),
        ('{% include "calls/_entry.html" %}', "calls"),
        ("{% include 'calls/_entry.html' with x=1 %}", "calls"),
        ('{% extends "calls/_entry.html" %}', "calls"),
    ],
)
def test_an_upward_template_dependency_is_caught(
    project: tuple[Path, Path], template: str, target: str
) -> None:
    package, templates = project
    write(package, "tutoring/templates/tutoring/detail.html", f"<p>\n{template}\n</p>")
    wrong = edges_against(tiers(ORDER), template_edges(package, templates))
    assert [(e.source, e.target) for e in wrong] == [("tutoring", target)]
    assert wrong[0].where.endswith("tutoring/templates/tutoring/detail.html:2")


def test_the_site_chrome_including_an_app_is_caught(project: tuple[Path, Path]) -> None:
    package, templates = project
    write(templates, "base.html", '{% load static %}{% include "calls/_entry.html" %}')
    wrong = edges_against(tiers(ORDER), template_edges(package, templates))
    assert [(e.source, e.target) for e in wrong] == [("web", "calls")]


def test_downward_and_package_template_dependencies_pass(project: tuple[Path, Path]) -> None:
    package, templates = project
    write(
        package,
        "calls/templates/calls/classroom.html",
        '{% extends "base.html" %}{% load static sessions classroom %}'
        '{% include "calls/_entry.html" %}{% include "account/snippets/x.html" %}'
        "{% include panel.template %}",
    )
    write(package, "core/templates/core/page.html", '{% extends "base.html" %}')
    assert edges_against(tiers(ORDER), template_edges(package, templates)) == []
