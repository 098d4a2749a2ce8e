"""Time in one place: the clock, city time zones, service hours and business days.

Everything that depends on "now" calls :func:`utcnow`, so tests freeze one clock
(time-machine) and expiry, service hours and business days all follow it.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import jpholiday


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def utcnow_naive() -> dt.datetime:
    """Return the current UTC time without tzinfo (what the database columns store)."""
    return utcnow().replace(tzinfo=None)


def local_now(tz_name: str) -> dt.datetime:
    """Return the current time in the given IANA time zone."""
    return utcnow().astimezone(ZoneInfo(tz_name))


def to_city_time(moment: dt.datetime | None, tz_name: str) -> dt.datetime | None:
    """A stored naive-UTC timestamp as an aware datetime in the city's zone (None stays None)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz_name))


def city_time_text(moment: dt.datetime | None, tz_name: str, sep: str = " ") -> str:
    """A stored naive-UTC timestamp as ``YYYY-MM-DD HH:MM`` city time (``sep="T"``: the
    datetime-local input format); ``""`` for None."""
    local = to_city_time(moment, tz_name)
    return "" if local is None else local.strftime(f"%Y-%m-%d{sep}%H:%M")


def city_to_utc(moment: dt.datetime, tz_name: str) -> dt.datetime:
    """A naive wall-clock time in the city's zone -> naive UTC, as the database stores it."""
    return moment.replace(tzinfo=ZoneInfo(tz_name)).astimezone(dt.UTC).replace(tzinfo=None)


def city_midnight_utc(day: dt.date, tz_name: str) -> dt.datetime:
    """The start of ``day`` in the city's zone, as naive UTC (bounds of date filters)."""
    return city_to_utc(dt.datetime.combine(day, dt.time(0)), tz_name)


def wait_minutes(seconds: int | float) -> int:
    """Seconds to whole minutes for a message such as 「約N分後」: rounded up, at least 1."""
    return max(1, -(-int(seconds) // 60))


def parse_hhmm(value: str) -> dt.time:
    """Parse ``"07:00"`` into a :class:`datetime.time`; raises ValueError if malformed."""
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(value)
    return dt.time(int(hours), int(minutes))


def within_hours(moment: dt.time, opens: dt.time, closes: dt.time) -> bool:
    """Tell whether ``moment`` lies in [opens, closes), wrapping midnight when closes <= opens."""
    if opens == closes:
        return True
    if opens < closes:
        return opens <= moment < closes
    return moment >= opens or moment < closes


def seconds_until(moment: dt.datetime, target: dt.time) -> int:
    """Seconds from ``moment`` until the next wall-clock ``target`` in the same time zone."""
    candidate = moment.replace(hour=target.hour, minute=target.minute, second=0, microsecond=0)
    if candidate <= moment:
        candidate += dt.timedelta(days=1)
    return max(1, int((candidate - moment).total_seconds()))


def _in_closure(day: dt.date, closure: list[tuple[int, int]]) -> bool:
    return (day.month, day.day) in closure


def is_business_day(day: dt.date, closure: list[tuple[int, int]] | None = None) -> bool:
    """A business day is a weekday that is no national holiday and not in the city's closure."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return False
    return not _in_closure(day, closure or [])


def add_business_days(start: dt.date, days: int, closure: list[tuple[int, int]] | None = None) -> dt.date:
    """Return the date ``days`` business days after ``start`` (``start`` itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_business_day(current, closure):
            remaining -= 1
    return current


def closure_days(spec: list[str]) -> list[tuple[int, int]]:
    """Expand closure entries ``"12-29"`` or ranges ``"12-29..01-03"`` into (month, day) pairs."""
    result: list[tuple[int, int]] = []
    for entry in spec:
        first, _, last = entry.partition("..")
        start = _month_day(first)
        end = _month_day(last) if last else start
        day = dt.date(2000, *start)  # a leap year, so 02-29 is expressible
        for _ in range(366):
            result.append((day.month, day.day))
            if (day.month, day.day) == end:
                break
            day += dt.timedelta(days=1)
    return result


def _month_day(text: str) -> tuple[int, int]:
    month, _, day = text.strip().partition("-")
    value = (int(month), int(day))
    dt.date(2000, *value)  # validates
    return value
