"""④ graph, ⑤ 料金明細 and detail, ⑥ 書類 list, against bills imported through the real service."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.mypage.usage.conftest import JST, history_rows

NAYORO_NO = "00012345682"
KANAZAWA_NO = "0100012345"


def amounts(i: int) -> dict:
    """The numbers history_rows gives the i-th bill (0 = oldest)."""
    water, sewer = 2000 + 37 * i, 1000 + 11 * i
    total = water + sewer
    return {"usage": 10 + i, "water": water, "sewer": sewer, "total": total, "tax": total * 10 // 110}


def test_nayoro_graph_compares_latest_12_months_with_the_year_before(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 24, newest="2026-10"))
    login(client, nayoro)
    body = client.get("/mypage/graph").get_data(as_text=True)
    assert body.count('role="img"') == 2
    assert "<title id=\"usage-chart-title\">使用量の推移(m³)</title>" in body
    assert "<title id=\"amount-chart-title\">請求金額の推移(円)</title>" in body
    newest, year_before = amounts(23), amounts(11)
    # Nayoro writes 和暦 ([invoice] date_style): the charts' texts and the table too
    assert f"令和8年10月: 直近1年 {newest['usage']} m³、前年同期 {year_before['usage']} m³" in body
    assert f"令和8年10月: 直近1年 {newest['total']:,} 円、前年同期 {year_before['total']:,} 円" in body
    oldest_shown, its_year_before = amounts(12), amounts(0)
    assert f"令和7年11月: 直近1年 {oldest_shown['usage']} m³、前年同期 {its_year_before['usage']} m³" in body
    svg_usage = body[body.index('id="usage-chart-title"'):body.index('id="amount-chart-title"')]
    assert svg_usage.count("<rect class=\"bar-") == 24  # 12 months x (this year, last year)
    assert "(m³)" in svg_usage and 'viewBox="0 0 300' in body
    # 12 months: every other month labelled (the newest always), so 13-unit labels never overlap
    labels = re.findall(r'<text x="[\d.]+" y="\d+">(\d+月)</text>', svg_usage)
    assert labels == ["12月", "2月", "4月", "6月", "8月", "10月"], labels
    table = body[body.index("<table"):]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(令和\d+年\d+月)</th>", table)
    assert rows[0] == "令和7年11月" and rows[-1] == "令和8年10月" and len(rows) == 12
    assert re.findall(r'<text[^>]*>(令和\d+年)</text>', svg_usage) == ["令和8年"]  # the year under 2月
    assert f"<td class=\"num\">{newest['total']:,} 円</td>" in table
    assert f"<td class=\"num\">{year_before['total']:,} 円</td>" in table
    assert "<script" not in body


def test_kanazawa_graph_is_bimonthly(client_for, kanazawa, customer, login, clock):
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 12, newest="2026-09", step=2))
    client = client_for("kanazawa")
    login(client, kanazawa)
    body = client.get("/mypage/graph").get_data(as_text=True)
    assert "各期(2か月ごと)" in body
    newest, year_before = amounts(11), amounts(5)
    assert f"2026年09月: 直近1年 {newest['usage']} m³、前年同期 {year_before['usage']} m³" in body
    table = body[body.index("<table"):]
    months = re.findall(r"<th scope=\"row\">(\d{4}年\d{2}月)</th>", table)
    assert months == ["2025年11月", "2026年01月", "2026年03月", "2026年05月", "2026年07月", "2026年09月"]


def test_graph_without_last_year_says_so(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 3, newest="2026-10"))
    login(client, nayoro)
    body = client.get("/mypage/graph").get_data(as_text=True)
    assert f"令和8年10月: 直近1年 {amounts(2)['usage']} m³、前年同期 データなし" in body  # two charts x 3 bars below
    assert body.count('<rect class="bar-now"') == 6 and '<rect class="bar-last"' not in body


def test_bills_lists_two_years_newest_first_with_status(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 30, newest="2026-10"))
    login(client, nayoro)
    body = client.get("/mypage/bills").get_data(as_text=True)
    months = re.findall(r'<a href="/mypage/bills/\d+">((?:令和|平成)\d+年\d+月)</a>', body)  # Nayoro: 和暦
    assert len(months) == 24 and months[0] == "令和8年10月" and months[-1] == "令和6年11月"
    newest = amounts(29)
    first_row = body[body.index("令和8年10月</a>"):body.index("令和8年9月</a>")]
    for text in ("令和8年10月1日〜令和8年10月20日", f"{newest['usage']} m³", f"{newest['water']:,} 円",
                 f"{newest['sewer']:,} 円", f"{newest['tax']:,} 円", f"{newest['total']:,} 円", "令和8年10月28日", "未納"):
        assert text in first_row, text
    second_row = body[body.index("令和8年9月</a>"):body.index("令和8年8月</a>")]
    assert "納付済 令和8年9月25日" in second_row


def test_kanazawa_bills_two_years_is_12_periods(client_for, kanazawa, customer, login, clock):
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 14, newest="2026-09", step=2))
    client = client_for("kanazawa")
    login(client, kanazawa)
    months = re.findall(r'<a href="/mypage/bills/\d+">(\d{4}年\d{2}月)</a>', client.get("/mypage/bills").get_data(as_text=True))
    assert len(months) == 12 and months[0] == "2026年09月" and months[-1] == "2024年11月"


def test_dates_follow_the_citys_date_style(client_for, nayoro, kanazawa, customer, login, clock):
    """Nayoro writes 和暦 on its member pages ([invoice] date_style = "wareki"); Kanazawa stays 西暦."""
    for city, number, newest, due in [(nayoro, NAYORO_NO, "2026-10", "令和8年10月28日"),
                                      (kanazawa, KANAZAWA_NO, "2026-09", "2026/09/28")]:
        customer(city, [number], bills=history_rows(number, 2, newest=newest))
        client = client_for(city.slug)
        login(client, city)
        body = client.get("/mypage/bills").get_data(as_text=True)
        assert due in body, city.slug
        assert ("令和" in body) is (city is nayoro) and ("2026年09月" in body) is (city is kanazawa), city.slug


@pytest.mark.parametrize("slug, number, newest, step, read_on", [
    ("nayoro", NAYORO_NO, "2026-10", 1, "令和8年10月20日"), ("kanazawa", KANAZAWA_NO, "2026-09", 2, "2026/09/20"),
])
def test_bill_detail_shows_meter_and_readings(request, client_for, customer, login, clock, bill_ids,
                                              slug, number, newest, step, read_on):
    city = request.getfixturevalue(slug)
    rows = history_rows(number, 2, newest=newest, step=step)
    customer(city, [number], bills=rows)
    client = client_for(slug)
    login(client, city)
    bill_id = bill_ids(city, number)[newest]
    body = client.get(f"/mypage/bills/{bill_id}").get_data(as_text=True)
    last = rows[-1]
    for label, value in [(city.settings["registration"]["customer_number_label"], number), ("メーター番号", "M54321"), ("口径", "13 mm"),
                         ("前回指針", last["previous_reading"]), ("今回指針", last["current_reading"]),
                         ("検針日", read_on), ("使用量", f"{last['usage_m3']} m³"),
                         ("水道料金", f"{int(last['water_charge']):,} 円"), ("下水道使用料", f"{int(last['sewer_charge']):,} 円"),
                         ("うち消費税等", f"{int(last['tax']):,} 円"), ("合計", f"{int(last['total']):,} 円")]:
        assert re.search(rf"<dt>{label}</dt><dd[^>]*>{re.escape(value)}", body), label
    assert f'href="/mypage/bills/{bill_id}/pdf"' in body


@pytest.mark.parametrize("slug, number, newest, step", [
    ("nayoro", NAYORO_NO, "2026-10", 1), ("kanazawa", KANAZAWA_NO, "2026-09", 2),
])
def test_documents_page_lists_a_pdf_per_bill(request, client_for, customer, login, clock, bill_ids,
                                             slug, number, newest, step):
    city = request.getfixturevalue(slug)
    customer(city, [number], bills=history_rows(number, 2, newest=newest, step=step))
    client = client_for(slug)
    login(client, city)
    body = client.get("/mypage/documents").get_data(as_text=True)
    ids = bill_ids(city, number)
    assert len(ids) == 2
    for month, bill_id in ids.items():
        assert f'href="/mypage/bills/{bill_id}/pdf"' in body
        shown = f"令和8年{int(month[5:])}月" if slug == "nayoro" else f"{month[:4]}年{month[5:]}月"  # the city's style
        assert f"{shown}分 検針票・請求書" in body
    assert "お送りした通知書はありません。" in body


def test_data_gate_hides_usage_and_bills_until_the_date(client, nayoro, customer, login, clock, bill_ids):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 2, newest="2026-10"),
             data_visible_from=dt.date(2026, 11, 24))
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    notice = "使用量や料金の照会ができるのは2026年11月24日からです。"
    total = f"{amounts(1)['total']:,} 円"
    for path in ("/mypage", "/mypage/graph", "/mypage/bills", "/mypage/documents", f"/mypage/bills/{bill_id}"):
        body = client.get(path).get_data(as_text=True)
        assert notice in body, path
        assert total not in body and "<svg" not in body and "/pdf" not in body, path
    assert NAYORO_NO in client.get("/mypage").get_data(as_text=True)  # the number itself is shown
    assert client.get(f"/mypage/bills/{bill_id}/pdf").status_code == 404
    clock.move_to(dt.datetime(2026, 11, 24, 0, 0, tzinfo=JST))  # midnight in the city: visible
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "照会ができるのは" not in body and total in body
    assert client.get(f"/mypage/bills/{bill_id}/pdf").status_code == 200
