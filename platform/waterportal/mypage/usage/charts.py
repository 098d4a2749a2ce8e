"""④ 使用量・請求金額のグラフ: the numbers and the geometry of server-drawn SVG bar charts.

The chart compares the latest year of bills (12 monthly or 6 bimonthly periods) with the
same billing months one year earlier, so it covers up to two years. Everything is
computed here, in plain numbers; ``portal/_chart.html`` only writes the SVG elements.
The SVG scales with its viewBox (300 units wide: about 1 unit = 1 CSS px in a card on a
360 px phone, where the 13-unit text renders at 12 px or more; the stylesheet caps the
width on a PC) and needs no JavaScript. Month labels thin out to every other period when
there are more than eight, so they never overlap; the <desc> and the table keep every value.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from unicodedata import east_asian_width

from babel.dates import format_date
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from waterportal.billing.models import Bill
from waterportal.billing.queries import month_number, periods_per_year
from waterportal.core.i18n import current_language, format_month

WIDTH, HEIGHT = 300, 236
LEFT, RIGHT, TOP, BOTTOM = 52, 6, 40, 46
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_BAR = 16
FONT = 13  # text size in viewBox units (>= 12 CSS px at 360 px)
MAX_LABELS = 8  # more periods than this: every other one is labelled
YEAR_GAP = 3.6 * FONT  # room a 「2026年」 label needs before the next one


@dataclass(frozen=True)
class ComparisonRow:
    """One billing period and the same billing month a year earlier (None: no bill)."""

    billing_month: str
    usage: int
    amount: int
    usage_last_year: int | None
    amount_last_year: int | None

    @property
    def label(self) -> str:
        return format_month(self.billing_month)

    @property
    def month(self) -> int:
        return int(self.billing_month[5:])


def comparison_rows(bills: Sequence[Bill], cycle: str) -> list[ComparisonRow]:
    """The latest year of ``bills`` (newest first in), oldest first out, each with last year's."""
    if not bills:
        return []
    by_month = {month_number(b.billing_month): b for b in bills}
    newest = month_number(bills[0].billing_month)
    recent = [b for b in bills if newest - month_number(b.billing_month) < 12][: periods_per_year(cycle)]
    rows = []
    for bill in reversed(recent):
        before = by_month.get(month_number(bill.billing_month) - 12)
        rows.append(ComparisonRow(
            bill.billing_month, bill.usage_m3, bill.total,
            before.usage_m3 if before else None, before.total if before else None,
        ))
    return rows


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str  # "now" or "last"
    text: str  # the bar's own <title>, e.g. 「2024年09月 直近1年: 20 m³」


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class XLabel:
    x: float
    month: str
    year: str


@dataclass(frozen=True)
class Chart:
    """A two-series bar chart ready to draw: ids, texts for screen readers, geometry."""

    chart_id: str
    title: str
    desc: str
    unit: str
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[XLabel]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_width: int = PLOT_W
    plot_height: int = PLOT_H
    font: int = FONT
    compare: bool = True  # two series (with a legend), or this period's only

    @property
    def legend_x(self) -> float:
        """Where the legend's second entry starts: after the first entry's text (a full-width
        character one em wide, another about 0.6 em), so a longer word in another language does
        not run into it (Japanese: 130, as before)."""
        width = sum(self.font if east_asian_width(ch) in "WF" else 0.6 * self.font for ch in str(SERIES["last"]))
        return round(self.left + 16 + width + 10, 1)


def nice_step(maximum: float, intervals: int = 4) -> int:
    """A round grid step (1, 2 or 5 × 10^n) so that ``intervals`` steps cover ``maximum``."""
    raw = max(maximum, 1) / intervals
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)  # pragma: no cover - the loop always returns


def fmt(value: int | None, unit: str) -> str:
    """「1,234 円」 / 「20 m³」 / 「データなし」 (in the page's language)."""
    return gettext("データなし") if value is None else f"{value:,} {unit}"


SERIES = {"now": _l("直近1年"), "last": _l("前年同期")}


def axis_labels(month: str, label: str) -> tuple[str, str]:
    """The x axis's month and year of a billing month: 「10月」「2026年」 (「令和8年」 where the city
    writes 和暦), 「Oct」「2026」 in English."""
    if current_language() == "en":
        return format_date(dt.date(int(month[:4]), int(month[5:]), 1), "MMM", locale="en"), month[:4]
    return f"{int(month[5:])}月", label[: label.index("年") + 1]


def bar_chart(chart_id: str, title: str, unit: str, points: Sequence[tuple[str, int | None, int | None]],
              *, compare: bool = True) -> Chart:
    """Lay out bars for ``points`` = (billing month, this period, same month a year earlier);
    ``compare=False`` draws this period's bars only (centred, no legend)."""
    values = [v for _m, now, last in points for v in (now, last) if v is not None]
    step = nice_step(max(values, default=0))
    top_value = step * max(1, math.ceil(max(values, default=0) / step))
    scale = PLOT_H / top_value
    ticks = [Tick(TOP + PLOT_H - i * step * scale, f"{i * step:,}") for i in range(top_value // step + 1)]
    slot = PLOT_W / max(len(points), 1)
    bar_w = min(MAX_BAR, slot * 0.36)
    if not compare:
        bar_w = min(MAX_BAR * 1.5, slot * 0.6)
    every = 2 if len(points) > MAX_LABELS else 1
    bars, labels, lines = [], [], []
    previous_year, year_at = "", None  # the label that shows the latest year written
    for index, (month, now, last) in enumerate(points):
        centre = LEFT + slot * (index + 0.5)
        label = format_month(month)  # 2026年10月 (令和8年10月 where the city writes 和暦), October 2026
        placed = (("now", now, centre - bar_w / 2),) if not compare else (
            ("last", last, centre - bar_w - 1), ("now", now, centre + 1))
        for series, value, x in placed:
            if value is None:
                continue
            height = value * scale
            name = f" {SERIES[series]}" if compare else ""
            bars.append(Bar(round(x, 1), round(TOP + PLOT_H - height, 1), round(bar_w, 1), round(height, 1),
                            series, f"{label}{name}: {fmt(value, unit)}"))
        if (len(points) - 1 - index) % every == 0:  # the newest period always has its label
            month_text, year = axis_labels(month, label)
            if year != previous_year and year_at is not None and centre - labels[year_at].x < YEAR_GAP:
                # too close to the previous year's label: the new year wins (the older one is implied)
                labels[year_at] = XLabel(labels[year_at].x, labels[year_at].month, "")
            shows_year = year != previous_year
            labels.append(XLabel(round(centre, 1), month_text, year if shows_year else ""))
            if shows_year:
                previous_year, year_at = year, len(labels) - 1
        if compare:
            lines.append(gettext("%(month)s: %(now_name)s %(now)s、%(last_name)s %(last)s。", month=label,
                                 now_name=SERIES["now"], now=fmt(now, unit), last_name=SERIES["last"], last=fmt(last, unit)))
        else:
            lines.append(gettext("%(month)s: %(value)s。", month=label, value=fmt(now, unit)))
    if compare:
        desc = gettext("%(title)s。請求月ごとに、%(now)sと%(last)sを並べた棒グラフです。", title=title, now=SERIES["now"],
                       last=SERIES["last"])
    else:
        desc = gettext("%(title)s。請求月ごとの棒グラフです。", title=title)
    desc += "".join(lines) if lines else gettext("表示できるデータがありません。")
    return Chart(chart_id, title, desc, unit, bars, ticks, labels, compare=compare)


def recent_usage_chart(newest_first: Sequence[Bill]) -> Chart:
    """The dashboard's small chart: the usage of the last 12 periods (the newest on the right)."""
    return bar_chart("recent-usage", gettext("使用量の推移(直近12回)"), "m³",
                     [(b.billing_month, b.usage_m3, None) for b in reversed(newest_first[:12])], compare=False)


def usage_and_amount_charts(rows: Sequence[ComparisonRow]) -> list[Chart]:
    """The two charts of ④: usage in m³ and the billed amount in yen."""
    return [
        bar_chart("usage-chart", gettext("使用量の推移(m³)"), "m³",
                  [(r.billing_month, r.usage, r.usage_last_year) for r in rows]),
        bar_chart("amount-chart", gettext("請求金額の推移(円)"), gettext("円"),
                  [(r.billing_month, r.amount, r.amount_last_year) for r in rows]),
    ]
