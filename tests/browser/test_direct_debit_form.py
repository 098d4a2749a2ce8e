"""The 口座振替 form on a 360 px phone: with JavaScript the bank and branch fields suggest
real banks and branches (a datalist) and the application is filed by keyboard; without
JavaScript an ambiguous name brings back the candidates to pick from. Neither scrolls
sideways, and the receipt offers the 口座振替依頼書."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_procedures import MEMBER_PASSWORD, enable, new_member, no_sideways_scroll


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server.url("nayoro", "/login"))
    page.locator("#identifier").fill(email)
    page.locator("#password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/mypage*")


def options(page, list_id: str) -> list[str]:
    return page.evaluate(f"[...document.querySelectorAll('#{list_id} option')].map(o => o.value)")


@pytest.mark.browser
def test_suggestions_and_filing_by_keyboard(page, live_server, live_app):
    enable(live_app, "nayoro")
    email, _ = new_member(live_app, "nayoro")
    log_in(page, live_server, email)
    page.goto(live_server.url("nayoro", "/procedures/new/payment_method"))
    assert no_sideways_scroll(page)
    page.locator("#f-contract_id").focus()
    page.keyboard.press("ArrowDown")
    page.locator("#f-method-1").focus()
    page.keyboard.press("Space")
    page.locator("#f-bank").press_sequentially("ほっかいどう")
    expect(page.locator("#bank-suggestions option").first).to_have_attribute("value", "0116 北海道銀行")
    # Typed by name, not chosen: the branch field still suggests that bank's branches.
    page.locator("#f-bank").fill("北海道")
    page.locator("#f-bank").press_sequentially("銀行")
    expect(page.locator("#bank-suggestions option").first).to_have_attribute("value", "0116 北海道銀行")
    page.locator("#f-branch").press_sequentially("なよろ")
    expect(page.locator("#branch-suggestions option").first).to_have_attribute("value", "704 名寄")
    assert options(page, "branch-suggestions") == ["704 名寄"]
    page.locator("#f-branch").fill("704 名寄")
    page.locator("#f-bank").fill("0116 北海道銀行")
    page.locator("#f-account_type-1").focus()
    page.keyboard.press("Space")
    page.locator("#f-account_number").fill("0012345")
    page.locator("#f-holder_kana").fill("すいどう たろう")
    page.get_by_role("button", name="申し込む").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/procedures/receipt*")
    content = page.content()
    assert "****345" in content and "0012345" not in content and "ｽｲﾄﾞｳ ﾀﾛｳ" in content
    expect(page.get_by_role("link", name="口座振替依頼書（PDF）をダウンロード")).to_be_visible()
    assert no_sideways_scroll(page)


@pytest.mark.browser
def test_without_javascript_the_candidates_come_back(browser, live_server, live_app):
    enable(live_app, "nayoro")
    email, _ = new_member(live_app, "nayoro")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, email)
        page.goto(live_server.url("nayoro", "/procedures/new/payment_method"))
        page.locator("#f-contract_id").select_option(index=1)
        page.locator("#f-bank").fill("北海道信")
        page.locator("#f-branch").fill("本店")
        page.get_by_role("button", name="金融機関・支店を確認").click()
        expect(page.locator("#f-bank_pick")).to_be_visible()
        assert "候補がいくつかあります" in page.content()
        assert no_sideways_scroll(page)
        page.locator("#f-bank_pick").select_option("1001")
        page.get_by_role("button", name="金融機関・支店を確認").click()
        expect(page.get_by_role("status").filter(has_text="1001 北海道信金")).to_be_visible()
        assert page.locator("#f-bank").input_value() == "北海道信"  # what was typed stays
    finally:
        context.close()
