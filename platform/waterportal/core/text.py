"""Japanese input normalisation, in one place.

Citizens type お客様番号 and 電話番号 with full-width digits and hyphens, and their
kana name in hiragana, half-width katakana or with spaces. Matching uses these forms.
"""
from __future__ import annotations

import re
import unicodedata

import jaconv

_HYPHENS = "-‐‑‒–—―−ーｰ－"
_SPACES = re.compile(r"[\s\u3000]+")


def _drop(text: str, pattern: re.Pattern) -> str:
    """Remove spaces (or hyphens) from NFKC text and compose again: NFKC turns a lone
    「゛」 or 「´」 into a space plus a combining mark, which joins its letter only once the
    space is gone (「ト゛」 -> 「ド」). Without this a second pass would change the result."""
    return unicodedata.normalize("NFKC", pattern.sub("", text))


def digits_only(value: str | None) -> str:
    """Full-width to half-width, then drop hyphens and spaces: ``"０１２-３４"`` -> ``"01234"``."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value)
    text = text.translate({ord(c): None for c in _HYPHENS})
    return _drop(text, _SPACES)


def katakana_name(value: str | None) -> str:
    """Normalise a kana name: hiragana and half-width katakana to full-width katakana, no spaces."""
    if not value:
        return ""
    text = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    text = unicodedata.normalize("NFKC", text)  # before kana folding: 「ゟ」 becomes 「より」
    text = jaconv.hira2kata(text)
    return _drop(text, _SPACES)


def is_katakana(value: str) -> bool:
    """True when ``value`` holds only full-width katakana and the long-vowel mark."""
    return bool(value) and all("\u30a0" <= ch <= "\u30ff" for ch in value)


def squash_spaces(value: str | None) -> str:
    """Trim and collapse runs of (full- or half-width) spaces to one half-width space."""
    if not value:
        return ""
    return _SPACES.sub(" ", value).strip()


def normalise_email(value: str | None) -> str:
    """Trim and lower-case an email address (NFKC first so full-width ＠ works)."""
    if not value:
        return ""
    return unicodedata.normalize("NFKC", value).strip().lower()
