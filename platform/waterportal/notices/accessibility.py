"""The accessibility policy page's facts (issue 13 §12, みんなの公共サイト運用ガイドライン).

The target level and the scope are the platform's (every city runs the same pages); the
latest check is what the axe-core browser test (tests/browser/test_axe.py) wrote into
``docs/accessibility.json`` (and, for readers, ``docs/accessibility.md``) when CI ran it with
``AXE_RESULTS=1``. No file, or one that cannot be read, means "no check published yet".
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from flask import current_app

from waterportal.core.paths import REPO_ROOT

RESULTS_FILE = REPO_ROOT / "docs" / "accessibility.json"
TARGET_LEVEL = "AA"
STANDARD = "JIS X 8341-3:2016"


def results_path() -> Path:
    return Path(current_app.config.get("ACCESSIBILITY_RESULTS") or RESULTS_FILE)


def latest_check(slug: str) -> dict[str, Any] | None:
    """The latest published check for the city ``slug``: date, tool, rules, widths, languages,
    the number of page scans of this city and the violations found; None when there is none."""
    try:
        data = json.loads(results_path().read_text(encoding="utf-8"))
        city = data["cities"][slug]
        return {
            "checked_on": dt.date.fromisoformat(data["checked_on"]),
            "tool": str(data["tool"]),
            "tags": [str(tag) for tag in data["tags"]],
            "widths": [int(width) for width in data["widths"]],
            "languages": [str(code) for code in data.get("languages", ["ja"])],
            "scans": int(city["scans"]),
            "pages": int(city["pages"]),
            "violations": int(city["violations"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None
