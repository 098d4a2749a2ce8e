"""Reading a contract's daily use for the member's pages."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from waterportal.extensions import db
from waterportal.readings.models import MeterReading

GRAPH_DAYS = 30


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def recent_days(contract_id: int, today: dt.date, days: int = GRAPH_DAYS) -> list[tuple[dt.date, int | None]]:
    """The ``days`` days ending with the contract's newest reading up to ``today`` (oldest first),
    each with its use in litres (None: no reading that day); [] for a contract without readings.

    A day's readings arrive the next morning, so the window ends with the newest day that has
    one, not with an empty today. One statement (the (tenant, contract, day) key serves it)."""
    rows = db.session.execute(
        select(MeterReading.reading_date, MeterReading.usage_litres)
        .where(MeterReading.contract_id == contract_id, MeterReading.reading_date <= today)
        .order_by(MeterReading.reading_date.desc()).limit(days)
    ).all()
    if not rows:
        return []
    found = {_day(day): litres for day, litres in rows}
    newest = max(found)
    return [(day, found.get(day)) for day in (newest - dt.timedelta(days=n) for n in range(days - 1, -1, -1))]
