"""The privacy page's text a new city starts from (issue 13 §13).

``scaffold/privacy.txt`` states, under 個人情報の保護に関する法律 (which has applied to local
governments directly since April 2023, replacing the cities' own 個人情報保護条例), the purpose of
each item the portal collects, the vendor as 委託先, retention and how to request disclosure.
``flask tenant create`` writes it into ``[texts] privacy`` with the city's names filled in; the
demo cities use the same text (tests/tenancy/test_privacy_text.py). ``{inquiry_email}`` stays a
placeholder, filled from the settings when the page is shown (tenancy/words.py).
"""
from __future__ import annotations

import string
from pathlib import Path

TEMPLATE = Path(__file__).parent / "scaffold" / "privacy.txt"


def privacy_text(name: str, portal_name: str) -> str:
    """The privacy text for the city ``name`` whose portal is called ``portal_name``."""
    text = TEMPLATE.read_text(encoding="utf-8").strip()
    return string.Template(text).substitute(name=name, portal_name=portal_name)
