"""A city's contact windows (「お客さま窓口一覧」, ``[contact] windows``) in the page's language.

A window may carry its words in another language next to it (``[contact.windows.en]``,
``[contact.windows.easy]``: name, hours, address, note; the phone is shared). A field the city
did not translate is shown in Japanese, and the page says so (issue 13 §10), as for the city's
texts (tenancy/words.py ``filled_texts``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waterportal.core.i18n import DEFAULT_LANGUAGE, current_language

# The window's words that take a translation; the phone is the same in every language.
TRANSLATED_FIELDS = ("name", "hours", "address", "note")


def windows_in(settings: Mapping[str, Any], language: str | None = None) -> list[dict[str, Any]]:
    """The city's windows in ``language`` (default: the current one).

    Each is ``{name, phone, hours, address, note, japanese, all_japanese}``: ``japanese`` is
    the set of the window's (non-empty) fields shown in Japanese because the city wrote no
    translation, ``all_japanese`` true when that is every one of them.
    """
    language = language or current_language()
    shown = []
    for window in settings.get("contact", {}).get("windows") or []:
        variant = (window.get(language) or {}) if language != DEFAULT_LANGUAGE else {}
        item: dict[str, Any] = {"phone": window.get("phone", ""), "japanese": set()}
        for key in TRANSLATED_FIELDS:
            original = window.get(key, "")
            item[key] = variant.get(key) or original
            if language != DEFAULT_LANGUAGE and original and not variant.get(key):
                item["japanese"].add(key)
        item["all_japanese"] = bool(item["japanese"]) and item["japanese"] == {
            key for key in TRANSLATED_FIELDS if window.get(key)}
        shown.append(item)
    return shown
