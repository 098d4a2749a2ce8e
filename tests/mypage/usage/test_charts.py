"""The numbers behind ④: the comparison rows, the grid steps and the bar geometry."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from waterportal.mypage.usage.charts import PLOT_H, TOP, bar_chart, comparison_rows, nice_step, recent_usage_chart


def bill(month: str, usage: int, total: int):
    return SimpleNamespace(billing_month=month, usage_m3=usage, total=total, period_start=dt.date(2026, 1, 1))


@pytest.mark.parametrize("maximum, step", [(0, 1), (3, 1), (4, 1), (23, 10), (40, 10), (41, 20), (3999, 1000),
                                           (5509, 2000), (12000, 5000)])
def test_nice_step_covers_the_maximum_in_four_round_steps(maximum, step):
    assert nice_step(maximum) == step
    assert step * 4 >= maximum


def test_comparison_rows_monthly_match_the_same_month_a_year_earlier_and_skip_gaps():
    newest_first = [bill("2026-10", 30, 3000), bill("2026-09", 29, 2900), bill("2026-07", 27, 2700),
                    bill("2025-10", 20, 2000), bill("2025-07", 17, 1700), bill("2025-06", 16, 1600)]
    rows = comparison_rows(newest_first, "monthly")
    # the latest year is 2025-11..2026-10 (2025-10 is last year's October); missing months are left out
    assert [(r.billing_month, r.usage, r.usage_last_year, r.amount_last_year) for r in rows] == [
        ("2026-07", 27, 17, 1700),
        ("2026-09", 29, None, None),
        ("2026-10", 30, 20, 2000),
    ]


def test_comparison_rows_bimonthly_keep_six_periods():
    months = [f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 37, 2)]  # every other month, 3 years
    newest_first = [bill(m, i, i * 100) for i, m in enumerate(months)][::-1]
    rows = comparison_rows(newest_first, "bimonthly")
    assert [r.billing_month for r in rows] == ["2026-01", "2026-03", "2026-05", "2026-07", "2026-09", "2026-11"]
    assert all(r.usage_last_year == r.usage - 6 for r in rows)


def test_bars_are_proportional_and_named_for_screen_readers():
    chart = bar_chart("c", "使用量の推移(m³)", "m³", [("2026-09", 20, None), ("2026-10", 40, 10)])
    assert [t.text for t in chart.ticks] == ["0", "10", "20", "30", "40"]
    now = [b for b in chart.bars if b.series == "now"]
    assert [b.height for b in now] == [PLOT_H / 2, PLOT_H] and all(b.y + b.height == TOP + PLOT_H for b in now)
    assert [b.text for b in chart.bars] == ["2026年09月 直近1年: 20 m³", "2026年10月 前年同期: 10 m³",
                                            "2026年10月 直近1年: 40 m³"]
    assert "2026年09月: 直近1年 20 m³、前年同期 データなし" in chart.desc
    assert [(label.month, label.year) for label in chart.labels] == [("9月", "2026年"), ("10月", "")]


def test_an_empty_chart_says_so():
    assert "表示できるデータがありません。" in bar_chart("c", "t", "円", []).desc


def test_twelve_periods_label_every_other_one_ending_with_the_newest():
    months = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(11, 23)]  # 2025-11 .. 2026-10
    chart = bar_chart("c", "t", "m³", [(m, 10, 9) for m in months])
    assert [label.month for label in chart.labels] == ["12月", "2月", "4月", "6月", "8月", "10月"]
    # 「2025年」 under 12月 would touch 「2026年」 under 2月: the new year's label wins
    assert [label.year for label in chart.labels] == ["", "2026年", "", "", "", ""]
    xs = [label.x for label in chart.labels]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 2.5 * chart.font  # 「10月」 is two characters wide


def test_the_dashboard_chart_shows_the_last_12_periods_alone():
    newest_first = [bill(f"2026-{m:02d}", m, m * 100) for m in range(10, 0, -1)] + [
        bill(f"2025-{m:02d}", m, m * 100) for m in range(12, 6, -1)]
    chart = recent_usage_chart(newest_first)
    assert not chart.compare and len(chart.bars) == 12 and {b.series for b in chart.bars} == {"now"}
    assert chart.bars[0].text == "2025年11月: 11 m³" and chart.bars[-1].text == "2026年10月: 10 m³"
    assert "前年同期" not in chart.desc and "2026年10月: 10 m³" in chart.desc
