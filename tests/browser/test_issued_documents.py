"""A member opens a bill's 適格請求書 facts and searches the issued PDFs at 360 px, by keyboard."""
from __future__ import annotations

import pytest

from tests.browser.layout import no_sideways_scroll as fits
from tests.browser.members import PASSWORD, member_with_bills


@pytest.mark.browser
def test_invoice_facts_and_document_search_at_360px(page, live_server, live_app):
    email, number, rows = member_with_bills(live_app)
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")

    page.goto(live_server.url("nayoro", "/mypage/bills"))
    page.get_by_role("link", name="令和8年10月").click()  # Nayoro writes 和暦 ([invoice] date_style)
    page.wait_for_url("**/mypage/bills/*")
    assert page.get_by_role("heading", name="適格請求書の記載事項").is_visible()
    assert page.get_by_text("T4000020012211").first.is_visible()
    assert page.get_by_role("link", name="検針票・請求書(PDF)をダウンロード").is_visible()
    assert fits(page)

    page.goto(live_server.url("nayoro", "/mypage/documents"))
    total = int(rows[-1]["total"])
    field = page.get_by_label("金額(円以上)")
    field.focus()
    page.keyboard.type(str(total))
    page.get_by_label("金額(円以下)").focus()
    page.keyboard.type(str(total))
    page.keyboard.press("Enter")  # submits the search form
    page.wait_for_url("**/mypage/documents?*")
    table = page.get_by_role("table")
    assert table.get_by_text(f"{total:,} 円").first.is_visible()
    assert "SHA-256" in table.inner_text()
    assert fits(page)

    page.get_by_label("発行日(から)").fill("2026-12-01")
    page.get_by_label("発行日(まで)").fill("2026-11-01")
    page.get_by_role("button", name="検索する").click()
    assert page.get_by_text("「から」より後の日付を入力してください。").is_visible()
    assert fits(page)
