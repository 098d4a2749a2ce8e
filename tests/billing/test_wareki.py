"""和暦 at each era boundary, 元年, and the 西暦 style the pages already print."""
from __future__ import annotations

import datetime as dt

import pytest

from waterportal.core.wareki import japanese_date, wareki, wareki_month


@pytest.mark.parametrize("day, expected", [
    (dt.date(2019, 4, 30), "平成31年4月30日"), (dt.date(2019, 5, 1), "令和元年5月1日"),
    (dt.date(2020, 1, 1), "令和2年1月1日"), (dt.date(2025, 5, 25), "令和7年5月25日"),
    (dt.date(1989, 1, 7), "昭和64年1月7日"), (dt.date(1989, 1, 8), "平成元年1月8日"),
    (dt.date(1926, 12, 24), "大正15年12月24日"), (dt.date(1926, 12, 25), "昭和元年12月25日"),
    (dt.date(1912, 7, 29), "明治45年7月29日"), (dt.date(1912, 7, 30), "大正元年7月30日"),
    (dt.date(1873, 1, 1), "明治6年1月1日"),
])
def test_each_era_boundary(day, expected):
    assert wareki(day) == expected


def test_before_the_gregorian_calendar_is_refused():
    with pytest.raises(ValueError):
        wareki(dt.date(1872, 12, 31))


def test_styles():
    day = dt.date(2026, 5, 5)
    assert (japanese_date(day), japanese_date(day, "wareki")) == ("2026年05月05日", "令和8年5月5日")


@pytest.mark.parametrize("year, month, expected", [
    (2019, 4, "平成31年4月"), (2019, 5, "令和元年5月"), (2026, 10, "令和8年10月"), (1989, 1, "昭和64年1月"),
])
def test_a_billing_month_takes_the_era_of_its_first_day(year, month, expected):
    assert wareki_month(year, month) == expected
