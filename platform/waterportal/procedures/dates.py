"""The dates a procedure may ask for (使用開始日, 使用中止日): business-day rules per city.

The earliest date is ``procedures.lead_business_days`` business days after today (city
time); the latest is ``procedures.horizon_days`` calendar days after today. The date itself
must be a business day: not a weekend, not a national holiday (jpholiday), not one of the
city's ``calendar.closure_days`` (年末年始 12-29..01-03 by default), because the
上下水道室 opens or closes the tap on a working day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext

from waterportal.core.i18n import format_day
from waterportal.core.time import add_business_days, closure_days, is_business_day, local_now
from waterportal.procedures.kinds import ProcedureInvalid
from waterportal.tenancy.context import TenantContext


@dataclass(frozen=True)
class DateWindow:
    """The allowed dates: business days from ``earliest`` to ``latest`` (both included)."""

    today: dt.date
    earliest: dt.date
    latest: dt.date
    closure: tuple[tuple[int, int], ...]

    def allows(self, day: dt.date) -> bool:
        return self.earliest <= day <= self.latest and is_business_day(day, list(self.closure))

    def message(self) -> str:
        """Which dates are allowed, in the page's language (shown next to the field and on a
        wrong date): 2026年12月24日(木)から… in Japanese, Thu, Dec 24, 2026 in English."""
        if self.earliest > self.latest:
            return gettext("現在、受け付けできる日付がありません。お手数ですが窓口へお問い合わせください。")
        return gettext("%(first)sから%(last)sまでの営業日(土日・祝日・休業日を除く)を指定してください。",
                       first=format_day(self.earliest), last=format_day(self.latest))

    def business_days(self) -> list[dt.date]:
        """Every allowed date (for a date picker's hints)."""
        days, day = [], self.earliest
        while day <= self.latest:
            if is_business_day(day, list(self.closure)):
                days.append(day)
            day += dt.timedelta(days=1)
        return days


class DateNotAllowed(ValueError):
    """A date outside the window; ``str()`` is the Japanese message naming the allowed dates."""

    def __init__(self, window: DateWindow):
        self.window = window
        super().__init__(window.message())


def city_today(tenant: TenantContext) -> dt.date:
    """Today in the city's time zone."""
    return local_now(tenant.timezone).date()


def date_window(tenant: TenantContext, today: dt.date | None = None) -> DateWindow:
    """The window of ``tenant`` as of ``today`` (city time by default)."""
    today = today or city_today(tenant)
    settings = tenant.settings["procedures"]
    closure = closure_days(list(tenant.settings["calendar"]["closure_days"]))
    earliest = add_business_days(today, settings["lead_business_days"], closure)
    while not is_business_day(earliest, closure):  # a lead of 0 days from a holiday
        earliest += dt.timedelta(days=1)
    latest = today + dt.timedelta(days=settings["horizon_days"])
    return DateWindow(today=today, earliest=earliest, latest=latest, closure=tuple(closure))


def check_date(tenant: TenantContext, day: dt.date, today: dt.date | None = None) -> dt.date:
    """``day`` when the city allows it, else :class:`DateNotAllowed` (message names the window)."""
    window = date_window(tenant, today)
    if not window.allows(day):
        raise DateNotAllowed(window)
    return day


def check_payload_date(tenant: TenantContext, data: dict, key: str, today: dt.date) -> None:
    """A kind's ``check`` for the date field ``key``: ProcedureInvalid naming the window."""
    day = data.get(key)
    if isinstance(day, dt.date):
        try:
            check_date(tenant, day, today)
        except DateNotAllowed as exc:
            raise ProcedureInvalid({key: [str(exc)]}) from None
