"""The area of an address: its 町名 and 丁目 (area alerts, issue 14 §4).

One rule for every address the platform stores or is typed: the contracts import and the
Contract model store :func:`area_of` with each contract (``contracts.address_area``), and
the console's pasted lists go through the same function, so an alert's area and a
contract's area are compared as equal strings in SQL (``1丁目`` never matches ``11丁目``).

The rule, on the demo addresses of both cities and the usual shapes of Japanese addresses:

* full-width digits and letters become ASCII, spaces go, and a kanji number before 丁目 or
  条 becomes digits (広坂一丁目 -> 広坂1丁目, 西四条南 -> 西4条南);
* the prefecture, a county (郡) with its town or village, the city (市) and a ward (区) at
  the start are dropped: 北海道名寄市西4条南7丁目3番地 -> 西4条南7丁目3番地;
* with ``N丁目`` (or three hyphenated numbers, 広坂1-2-5) the area is the town and its
  丁目: 西4条南7丁目, 広坂1丁目. The town may hold ``N条`` (Hokkaido's grid: 西4条南);
* without a 丁目 it is the town alone: everything up to the first number that is not
  ``N条`` (名寄市風連町西町196番地1 -> 風連町西町, 金沢市此花町12番3号 -> 此花町).
"""
from __future__ import annotations

import re
import unicodedata

KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUMBER = re.compile(r"([〇一二三四五六七八九十]+)(?=丁目|条)")
_PREFECTURE = re.compile(r"^(?:東京都|北海道|京都府|大阪府|[^\d]{2,3}県)")
_COUNTY = re.compile(r"^[^\d]{1,5}?郡[^\d]{1,5}?[町村]")
_CITY = re.compile(r"^[^\d]{1,6}?市")
_WARD = re.compile(r"^[^\d]{1,5}?区")
# A town: anything but a number that starts the house number (N番, N号, N-); "N条" stays.
_TOWN = r"(?:[^\d]|\d+条)+?"
_CHOME = re.compile(rf"^(?P<town>{_TOWN})(?P<chome>\d+)(?:丁目|-\d+-\d+)")
_TOWN_ONLY = re.compile(r"^(?P<town>(?:[^\d]|\d+条)+)")
_AREA = re.compile(r"^(?P<town>.+?)(?:(?P<chome>\d+)丁目)?$")
MAX_LENGTH = 100


def _kanji_number(text: str) -> str:
    """一 -> 1, 十二 -> 12, 二十 -> 20, 三十四 -> 34 (up to 99: 丁目 and 条 never go higher)."""
    if "十" not in text:
        return "".join(str(KANJI_DIGITS[ch]) for ch in text)
    tens, _, ones = text.partition("十")
    return str((KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (KANJI_DIGITS.get(ones, 0) if ones else 0))


def normalise(text: str) -> str:
    """NFKC, no spaces, kanji numbers before 丁目/条 as digits, hyphen look-alikes as ``-``."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"[‐‑‒–—―−](?=\d)", "-", text)
    return _KANJI_NUMBER.sub(lambda m: _kanji_number(m.group(1)), text)


def _strip_municipality(text: str) -> str:
    text = _PREFECTURE.sub("", text, count=1)
    county = _COUNTY.match(text)
    if county:
        return text[county.end():]
    text = _CITY.sub("", text, count=1)
    return _WARD.sub("", text, count=1)


def area_of(address: str | None) -> str | None:
    """The 町名 and 丁目 of ``address`` (``西4条南7丁目``, ``広坂1丁目``, ``此花町``), or None."""
    # An area is never long: reading only the start keeps the patterns linear on a hostile line.
    text = _strip_municipality(normalise((address or "")[:160]))[:MAX_LENGTH + 20]
    match = _CHOME.match(text)
    if match:
        area = f"{match['town']}{int(match['chome'])}丁目"
    else:
        town = _TOWN_ONLY.match(text)
        area = town["town"] if town else ""
    area = area.strip("-")
    return area[:MAX_LENGTH] or None


def split_area(area: str) -> tuple[str, int | None]:
    """``西4条南7丁目`` -> (``西4条南``, 7); ``此花町`` -> (``此花町``, None)."""
    match = _AREA.match(area)
    if match is None:
        return area, None
    return match["town"], int(match["chome"]) if match["chome"] else None
