"""Business days: weekends, national holidays (jpholiday) and the city's closure."""
from __future__ import annotations

import datetime as dt

import pytest

from waterportal.core.time import add_business_days, closure_days, is_business_day, parse_hhmm, seconds_until

YEAR_END = closure_days(["12-29..01-03"])


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (dt.date(2026, 11, 18), 1, dt.date(2026, 11, 19)),  # Wed -> Thu
        (dt.date(2026, 11, 20), 1, dt.date(2026, 11, 24)),  # Fri -> weekend, 11-23 勤労感謝の日 -> Tue
        (dt.date(2026, 12, 28), 1, dt.date(2027, 1, 4)),  # year-end closure 12-29..01-03
        (dt.date(2027, 1, 8), 1, dt.date(2027, 1, 12)),  # Fri -> 01-11 成人の日 (2nd Monday)
        (dt.date(2026, 11, 18), 0, dt.date(2026, 11, 18)),
        (dt.date(2026, 11, 18), 5, dt.date(2026, 11, 26)),
    ],
)
def test_add_business_days(start, days, expected):
    assert add_business_days(start, days, YEAR_END) == expected


def test_closure_can_be_left_out():
    assert add_business_days(dt.date(2026, 12, 28), 1, []) == dt.date(2026, 12, 29)


def test_closure_ranges_wrap_the_year():
    assert (12, 31) in YEAR_END and (1, 3) in YEAR_END and (1, 4) not in YEAR_END
    assert not is_business_day(dt.date(2027, 1, 1), [])  # 元日 is a holiday anyway
    assert closure_days(["08-15"]) == [(8, 15)]


@pytest.mark.parametrize("bad", ["13-01", "02-30..03-01", "x"])
def test_bad_closure_entries_raise(bad):
    with pytest.raises(ValueError):
        closure_days([bad])


def test_parse_hhmm_and_seconds_until():
    assert parse_hhmm("07:00") == dt.time(7, 0)
    with pytest.raises(ValueError):
        parse_hhmm("7am")
    moment = dt.datetime(2026, 11, 20, 6, 59, 30)
    assert seconds_until(moment, dt.time(7, 0)) == 30
    assert seconds_until(dt.datetime(2026, 11, 20, 7, 0), dt.time(7, 0)) == 86400
