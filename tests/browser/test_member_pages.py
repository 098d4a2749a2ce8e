"""A member with two years of bills opens the dashboard, the graph and a bill on a 360 px phone."""
from __future__ import annotations

import pytest

from tests.browser.layout import no_sideways_scroll as fits
from tests.browser.members import PASSWORD, member_with_bills


@pytest.mark.browser
def test_dashboard_graph_and_bill_detail_at_360px(page, live_server, live_app):
    email, number, rows = member_with_bills(live_app)
    newest = rows[-1]
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")

    total = f"{int(newest['total']):,} 円"
    assert page.get_by_text("風連花子さま、").is_visible()
    assert page.get_by_text(number).is_visible()
    assert page.locator(".bill-amount").inner_text() == total
    assert page.get_by_role("button", name="ログアウト").is_visible()
    assert fits(page)

    page.get_by_role("link", name="使用量・請求金額のグラフ").click()
    page.wait_for_url("**/mypage/graph")
    # usage, amount and the smart meter's 30 days (issue 14 §6; the logo is the fourth img)
    assert page.locator("svg[role=img]").count() == 3
    daily = page.get_by_role("img", name="直近30日の使用量(1日ごと、リットル)")
    daily_box = daily.bounding_box()
    assert daily_box and 200 < daily_box["width"] <= 360
    # Its day labels render at 12 px or more on the phone, as the monthly charts' text.
    sizes = daily.locator("text").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert sizes and min(sizes) >= 12
    usage = page.get_by_role("img", name="使用量の推移(m³)")
    box = usage.bounding_box()
    assert box and 200 < box["width"] <= 360 and box["height"] > 100
    assert f"直近1年 {newest['usage_m3']} m³" in page.locator("#usage-chart-desc").text_content()
    assert page.get_by_role("table").get_by_text(total).count() >= 1
    assert fits(page)

    page.goto(live_server.url("nayoro", "/mypage/bills"))
    page.get_by_role("link", name="令和8年10月").click()  # Nayoro writes 和暦 ([invoice] date_style)
    page.wait_for_url("**/mypage/bills/*")
    content = page.content()
    assert "料金明細の詳細" in content and "M54321" in content and "13 mm" in content
    assert f"<dd>{newest['current_reading']}" in content and total in content
    assert page.get_by_role("link", name="検針票・請求書(PDF)をダウンロード").is_visible()
    assert fits(page)
