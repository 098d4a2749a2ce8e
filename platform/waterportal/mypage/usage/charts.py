"""④ 使用量・請求金額のグラフ: the numbers and the geometry of server-drawn SVG bar charts.

The chart compares the latest year of bills (12 monthly or 6 bimonthly periods) with the
same billing months one year earlier, so it covers up to two years. Everything is
computed here, in plain numbers; ``portal/_chart.html`` only writes the SVG elements.
The SVG scales with its viewBox (360 units wide: 1 unit ≈ 1 CSS px on a 360 px phone)
and needs no JavaScript.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from waterportal.billing.models import Bill
from waterportal.billing.queries import month_label, month_number, periods_per_year

WIDTH, HEIGHT = 360, 236
LEFT, RIGHT, TOP, BOTTOM = 54, 8, 40, 44
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_BAR = 16


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
        return month_label(self.billing_month)

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


def nice_step(maximum: float, intervals: int = 4) -> int:
    """A round grid step (1, 2 or 5 × 10^n) so that ``intervals`` steps cover ``maximum``."""
    raw = max(maximum, 1) / intervals
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)  # pragma: no cover - the loop always returns


def fmt(value: int | None, unit: str) -> str:
    """「1,234 円」 / 「20 m³」 / 「データなし」."""
    return "データなし" if value is None else f"{value:,} {unit}"


SERIES = {"now": "直近1年", "last": "前年同期"}


def bar_chart(chart_id: str, title: str, unit: str, points: Sequence[tuple[str, int | None, int | None]]) -> Chart:
    """Lay out bars for ``points`` = (billing month, this period, same month a year earlier)."""
    values = [v for _m, now, last in points for v in (now, last) if v is not None]
    step = nice_step(max(values, default=0))
    top_value = step * max(1, math.ceil(max(values, default=0) / step))
    scale = PLOT_H / top_value
    ticks = [Tick(TOP + PLOT_H - i * step * scale, f"{i * step:,}") for i in range(top_value // step + 1)]
    slot = PLOT_W / max(len(points), 1)
    bar_w = min(MAX_BAR, slot * 0.36)
    bars, labels, lines = [], [], []
    previous_year = ""
    for index, (month, now, last) in enumerate(points):
        centre = LEFT + slot * (index + 0.5)
        label = month_label(month)
        for series, value, x in (("last", last, centre - bar_w - 1), ("now", now, centre + 1)):
            if value is None:
                continue
            height = value * scale
            bars.append(Bar(round(x, 1), round(TOP + PLOT_H - height, 1), round(bar_w, 1), round(height, 1),
                            series, f"{label} {SERIES[series]}: {fmt(value, unit)}"))
        year = month[:4]
        labels.append(XLabel(round(centre, 1), f"{int(month[5:])}月", f"{year}年" if year != previous_year else ""))
        previous_year = year
        lines.append(f"{label}: {SERIES['now']} {fmt(now, unit)}、{SERIES['last']} {fmt(last, unit)}")
    desc = (f"{title}。請求月ごとに、{SERIES['now']}と{SERIES['last']}を並べた棒グラフです。"
            + "。".join(lines) + ("。" if lines else "表示できるデータがありません。"))
    return Chart(chart_id, title, desc, unit, bars, ticks, labels)


def usage_and_amount_charts(rows: Sequence[ComparisonRow]) -> list[Chart]:
    """The two charts of ④: usage in m³ and the billed amount in yen."""
    return [
        bar_chart("usage-chart", "使用量の推移(m³)", "m³",
                  [(r.billing_month, r.usage, r.usage_last_year) for r in rows]),
        bar_chart("amount-chart", "請求金額の推移(円)", "円",
                  [(r.billing_month, r.amount, r.amount_last_year) for r in rows]),
    ]
