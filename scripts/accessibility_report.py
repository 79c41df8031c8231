"""Refresh the generated part of docs/accessibility.md (the criteria table and the colour
pairs), which `tests/test_accessibility_report.py` keeps current.

.venv/bin/python scripts/accessibility_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.a11y_report import REPORT, refreshed

if __name__ == "__main__":
    REPORT.write_text(refreshed())
