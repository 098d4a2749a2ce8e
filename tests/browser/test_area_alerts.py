"""Area alerts (issue 14 §4) in Chromium at 360 px, by keyboard: a Nayoro admin narrows the
area list, ticks the member's street, checks the reach and publishes; the member on that street
sees the banner on the dashboard and opens the alert."""
from __future__ import annotations

import pytest

from tests.browser.layout import clipped, no_sideways_scroll, reaches_by_tab
from tests.browser.members import PASSWORD, member_with_bills
from tests.browser.test_admin import new_staff, staff_login


def tab_to(page, selector: str) -> None:
    assert reaches_by_tab(page, selector, limit=200), f"{selector} is not reached by Tab"


@pytest.mark.browser
def test_an_admin_publishes_by_keyboard_and_the_member_sees_the_banner(page, live_server, live_app, browser):
    identifier, _number, _rows = member_with_bills(live_app, "nayoro")  # lives on 風連町西町
    staff_login(page, live_server, "nayoro", new_staff(live_app, "nayoro"), by_keyboard=True)
    page.goto(live_server.url("nayoro", "/admin/area-alerts/new"))
    page.get_by_role("heading", name="地区別のお知らせの作成").wait_for()

    # Keyboard only: the kind (断水 is chosen), title, text, period, then the area list's filter.
    tab_to(page, "#title")
    page.keyboard.type("配水管工事に伴う断水")
    page.keyboard.press("Tab")
    page.keyboard.type("11月18日9時から断水します。")
    page.locator("#starts_at").fill("2026-11-18T09:00")
    page.locator("#ends_at").fill("2026-11-20T17:00")
    tab_to(page, "#area-filter")
    page.keyboard.type("風連町西")
    status = page.locator("#area-filter-count")
    assert "地区を表示しています" in status.inner_text()
    visible = page.locator("#area-list li:visible")
    assert visible.count() >= 1 and all("風連町西" in t for t in visible.all_inner_texts())
    page.keyboard.press("Tab")  # the first box still shown
    assert page.evaluate("document.activeElement.value") == "風連町西町"
    page.keyboard.press("Space")
    assert page.locator("input[value='風連町西町']").is_checked()
    assert no_sideways_scroll(page) and clipped(page) == []

    tab_to(page, "button[value='check']")
    page.keyboard.press("Enter")
    counts = page.locator("#area-alert-counts")
    counts.wait_for()
    assert "対象: 契約" in counts.inner_text() and "風連町西町" in counts.inner_text()
    assert page.locator("input[value='風連町西町']").is_checked()  # kept
    assert no_sideways_scroll(page)
    tab_to(page, "button[value='publish']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/area-alerts/*")
    assert "を公開しました" in page.locator(".flash").inner_text()
    assert "掲載中" in page.locator(".facts").inner_text()
    assert no_sideways_scroll(page) and clipped(page) == []

    member = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP").new_page()
    try:
        member.goto(live_server.url("nayoro", "/login"))
        member.locator("#identifier").fill(identifier)
        member.locator("#password").fill(PASSWORD)
        member.locator("#password").press("Enter")
        member.wait_for_url("**/mypage")
        banner = member.locator(".area-alert").first
        assert "断水" in banner.inner_text() and "配水管工事に伴う断水" in banner.inner_text()
        assert no_sideways_scroll(member) and clipped(member) == []
        tab_to(member, ".area-alert a")
        member.keyboard.press("Enter")
        member.wait_for_url("**/mypage/alerts/*")
        assert "11月18日9時から断水します。" in member.locator(".area-alert").inner_text()
        assert no_sideways_scroll(member) and clipped(member) == []
    finally:
        member.context.close()
