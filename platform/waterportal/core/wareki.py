"""Dates as the cities print them: 西暦 (2026年05月25日) or 和暦 (令和8年5月25日).

The eras since the Gregorian calendar came into use in Japan (明治6年 = 1873), each from its
first day; the first year of an era is 元年. A table, tested at each boundary
(tests/billing/test_wareki.py), rather than a dependency for five rows.
"""
from __future__ import annotations

import datetime as dt

ERAS = (  # (first day, name), newest first
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1873, 1, 1), "明治"),  # the Gregorian calendar from 明治6年1月1日
)
MEIJI_FIRST_YEAR = 1868
STYLES = ("seireki", "wareki")


def wareki(value: dt.date) -> str:
    """令和8年5月25日; 令和元年5月1日; a date before 1873 is refused."""
    for first, name in ERAS:
        if value >= first:
            start_year = MEIJI_FIRST_YEAR if name == "明治" else first.year
            year = value.year - start_year + 1
            return f"{name}{'元' if year == 1 else year}年{value.month}月{value.day}日"
    raise ValueError(f"{value} is before the Gregorian calendar in Japan")


def wareki_month(year: int, month: int) -> str:
    """令和8年10月: the era of the month's first day (2019年5月 = 令和元年5月, 2019年4月 = 平成31年4月)."""
    return wareki(dt.date(year, month, 1)).rsplit("月", 1)[0] + "月"


def japanese_month(billing_month: str, style: str = "seireki") -> str:
    """A billing month (``"2026-10"``) in the city's style: 2026年10月 (seireki, the manual's
    two-digit month) or 令和8年10月 (wareki)."""
    year, month = billing_month.split("-")
    if style == "wareki":
        return wareki_month(int(year), int(month))
    return f"{year}年{month}月"


def japanese_date(value: dt.date, style: str = "seireki") -> str:
    """The date in the city's style: 2026年05月25日 (seireki) or 令和8年5月25日 (wareki)."""
    if style == "wareki":
        return wareki(value)
    return f"{value.year}年{value.month:02d}月{value.day:02d}日"
