"""④ the last 30 days of a contract with a smart meter (issue 14 §6): one bar a day, in litres.

The same server-drawn SVG as the monthly charts (:mod:`waterportal.mypage.usage.charts`: the
300-unit viewBox whose 13-unit text renders at 12 px or more on a 360 px phone, no JavaScript);
30 bars leave about 8 units a day, so only every seventh day is labelled (the newest always),
as 「11/18」; the <desc> and the page's table keep every day.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext

from waterportal.core.i18n import format_ymd
from waterportal.mypage.usage.charts import FONT, LEFT, PLOT_H, PLOT_W, TOP, Bar, Chart, Tick, XLabel, nice_step

LABEL_EVERY = 7  # days between two labels (a 「11/18」 is about 35 units wide, a week 56)


@dataclass(frozen=True)
class DailyRow:
    """One day of the table: the day and its use in litres (None: the meter sent nothing)."""

    day: dt.date
    litres: int | None

    @property
    def m3(self) -> str:
        """「0.235」: the use in m³ as the import wrote it (three decimals)."""
        return "" if self.litres is None else f"{self.litres / 1000:.3f}"


def daily_rows(days: Sequence[tuple[dt.date, int | None]]) -> list[DailyRow]:
    """The table's rows, oldest first."""
    return [DailyRow(day, litres) for day, litres in days]


def _short(day: dt.date) -> str:
    return f"{day.month}/{day.day}"


def daily_chart(rows: Sequence[DailyRow]) -> Chart:
    """The bars of ``rows`` (oldest first) in litres; a day without a reading has no bar."""
    values = [r.litres for r in rows if r.litres is not None]
    step = nice_step(max(values, default=0))
    top_value = step * max(1, math.ceil(max(values, default=0) / step))
    scale = PLOT_H / top_value
    ticks = [Tick(TOP + PLOT_H - i * step * scale, f"{i * step:,}") for i in range(top_value // step + 1)]
    slot = PLOT_W / max(len(rows), 1)
    width = slot * 0.6
    bars, labels, lines = [], [], []
    for index, row in enumerate(rows):
        centre = LEFT + slot * (index + 0.5)
        value = gettext("データなし") if row.litres is None else f"{row.litres:,} L"
        text = f"{format_ymd(row.day)}: {value}"
        if row.litres is not None:
            height = row.litres * scale
            bars.append(Bar(round(centre - width / 2, 1), round(TOP + PLOT_H - height, 1), round(width, 1),
                            round(height, 1), "now", text))
        if (len(rows) - 1 - index) % LABEL_EVERY == 0:
            labels.append(XLabel(round(centre, 1), _short(row.day), ""))
        lines.append(gettext("%(day)s: %(value)s。", day=format_ymd(row.day), value=value))
    title = gettext("直近30日の使用量(1日ごと、リットル)")
    desc = gettext("%(title)s。1日ごとの棒グラフです。", title=title) + "".join(lines)
    return Chart("daily-chart", title, desc, "L", bars, ticks, labels, font=FONT, compare=False)
