"""docs/accessibility.md's generated part is what the suite would write now, and every test
it names exists."""

from __future__ import annotations

from tests.a11y_report import CRITERIA, current, missing_tests, render


def test_the_report_lists_every_wcag_21_a_and_aa_criterion() -> None:
    assert len(CRITERIA) == 50
    assert sum(c.level == "A" for c in CRITERIA) == 30
    assert len({c.number for c in CRITERIA}) == 50


def test_every_test_the_report_names_exists() -> None:
    assert missing_tests() == []


def test_the_report_is_current() -> None:
    assert current() == render(), (
        "docs/accessibility.md is stale: run .venv/bin/python scripts/accessibility_report.py"
    )
