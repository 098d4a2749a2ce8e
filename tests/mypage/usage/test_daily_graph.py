"""④ the last 30 days of a contract with a smart meter (issue 14 §6): daily bars, a table with every
day, text that stays readable at 360 px; a contract without readings keeps the page it had."""
from __future__ import annotations

import datetime as dt
import re

from tests.imports.helpers import csv_text
from tests.mypage.usage.conftest import history_rows
from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS, import_readings
from waterportal.mypage.usage.charts import FONT, LEFT, PLOT_W
from waterportal.mypage.usage.daily import daily_chart, daily_rows

NAYORO_NO, OTHER_NO = "00012345682", "00012345693"
KANAZAWA_NO = "0100012345"


def load_readings(app, tenant, number: str, first: dt.date, usages: list[str]):
    rows = [{"customer_number": number, "reading_date": (first + dt.timedelta(days=n)).isoformat(), "usage_m3": u}
            for n, u in enumerate(usages)]
    with app.app_context():
        assert import_readings(tenant, csv_text(READING_COLUMNS, rows).encode()).ok
        db.session.commit()


def test_a_contract_with_readings_shows_its_last_30_days(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO, OTHER_NO], bills=history_rows(NAYORO_NO, 3))
    # 40 days up to yesterday (the 17th), 100, 101, ... litres; the 10th sent nothing
    first = dt.date(2026, 10, 9)
    usages = [f"0.{100 + n:03d}" for n in range(40)]
    load_readings(app, nayoro, NAYORO_NO, first, usages[:32])
    load_readings(app, nayoro, NAYORO_NO, dt.date(2026, 11, 11), usages[33:])
    login(client, nayoro)
    body = client.get("/mypage/graph").get_data(as_text=True)
    assert "直近30日の使用量(1日ごと)" in body and "使用量の推移(m³)" in body  # the monthly charts stay
    table = body[body.index('id="daily-table-caption"'):]
    days = re.findall(r'<th scope="row">([^<]+)</th>', table)
    # newest first, in the city's date style (Nayoro writes 和暦)
    assert len(days) == 30 and days[0] == "令和8年11月17日" and days[-1] == "令和8年10月19日"
    assert '<td class="num">139 L (0.139 m³)</td>' in table  # the 17th, as imported
    assert table.count("データなし") == 1  # the 10th
    svg = body[body.index('id="daily-chart-title"') - 200:]
    assert svg.count('class="bar-now"') >= 29


def test_a_contract_without_readings_is_unchanged(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO, OTHER_NO], bills=history_rows(NAYORO_NO, 3))
    load_readings(app, nayoro, OTHER_NO, dt.date(2026, 11, 10), ["0.2"] * 5)  # the other contract has them
    login(client, nayoro)
    body = client.get("/mypage/graph").get_data(as_text=True)
    assert "使用量の推移(m³)" in body and "daily-chart" not in body and "直近30日" not in body


def test_the_chart_labels_every_seventh_day_and_fits_a_phone():
    rows = daily_rows([(dt.date(2026, 10, 19) + dt.timedelta(days=n), 150 + n if n != 5 else None) for n in range(30)])
    chart = daily_chart(rows)
    assert [label.month for label in chart.labels] == ["10/20", "10/27", "11/3", "11/10", "11/17"]
    gaps = [b.x - a.x for a, b in zip(chart.labels, chart.labels[1:], strict=False)]
    assert min(gaps) > 3.5 * FONT  # a 「11/17」 is about 5 half-width characters of 13 units: no overlap
    assert len(chart.bars) == 29 and chart.font >= 13  # 13 of 300 units: >= 12 px on a 360 px screen
    assert all(LEFT <= bar.x and bar.x + bar.width <= LEFT + PLOT_W for bar in chart.bars)
    assert "2026/10/24: データなし。" in chart.desc and "2026/11/17: 179 L。" in chart.desc
    assert rows[0].m3 == "0.150" and rows[5].m3 == ""
