"""お知らせ in English (issue 13 §10) in Chromium: a Kanazawa admin writes a notice with its
English title and body at 360 px by keyboard; a member reading in English opens it on the
dashboard at 360 and 1280 px, one reading in やさしい日本語 sees the Japanese with the note.
Nothing is cut off, axe finds nothing; with ``SCREENSHOTS_DIR`` set the pages are saved."""
from __future__ import annotations

import pytest

from tests.browser.layout import clipped, no_sideways_scroll, reaches_by_tab
from tests.browser.members import PASSWORD, member_with_bills
from tests.browser.screenshots import Shots
from tests.browser.test_admin import new_staff, staff_login
from tests.browser.test_axe import TAGS

TITLE_EN = "Water outage on Hirosaka 1-chome, December 1 (9:00 to 15:00)"
BODY_EN = "Water will be off while we replace a main.\nDetails: https://www.city.kanazawa.example/outage"


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    return [f"{v['id']} {[n['target'] for n in v['nodes']][:3]}" for v in result.response["violations"]]


def member_page(browser, live_server, identifier: str, language: str, width: int):
    """A logged-in member's dashboard in ``language`` at ``width`` px, the first notice opened."""
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="ja-JP")
    page = context.new_page()
    page.goto(live_server.url("kanazawa", "/login"))
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/mypage")
    context.add_cookies([{"name": "lang", "value": language, "url": live_server.url("kanazawa", "/")}])
    page.goto(live_server.url("kanazawa", "/mypage"))
    summary = page.locator(".notices summary").first
    summary.focus()
    page.keyboard.press("Enter")  # opened by keyboard
    page.locator(".notices details[open] .notice-body").first.wait_for()
    page.locator(".notices-card").scroll_into_view_if_needed()
    return context, page


@pytest.mark.browser
def test_an_english_notice_is_written_by_keyboard_and_read_in_english(page, live_server, live_app, browser):
    identifier, _number, _rows = member_with_bills(live_app, "kanazawa")
    staff_login(page, live_server, "kanazawa", new_staff(live_app, "kanazawa"), by_keyboard=True)
    page.goto(live_server.url("kanazawa", "/admin/notices/new"))
    page.get_by_role("heading", name="お知らせの作成").wait_for()
    page.locator("#title").fill("広坂1丁目の断水のお知らせ(12月1日 9時〜15時)")
    page.locator("#body").fill("配水管の取替工事のため断水します。")
    assert reaches_by_tab(page, "#title_en", limit=60)
    page.keyboard.type(TITLE_EN)
    page.keyboard.press("Tab")
    page.keyboard.type(BODY_EN)
    assert no_sideways_scroll(page) and clipped(page) == []
    assert reaches_by_tab(page, "button[type='submit']", limit=60)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/notices")
    assert "言語: 日本語・英語" in page.locator(".notice-list").inner_text()

    shots = Shots("kanazawa")
    for width in (360, 1280):
        context, member = member_page(browser, live_server, identifier, "en", width)
        try:
            card = member.locator(".notices-card").inner_text()
            assert TITLE_EN in card and "Water will be off while we replace a main." in card
            assert "断水" not in card and "Japanese only" not in card
            assert member.locator(".notices-card a[href='https://www.city.kanazawa.example/outage']").count() == 1
            assert no_sideways_scroll(member) and clipped(member) == []
            assert axe_violations(member) == []
            shots.take(member, "en", width, "notice")
        finally:
            context.close()

    context, member = member_page(browser, live_server, identifier, "easy", 360)
    try:
        card = member.locator(".notices-card")
        assert "この ぶんしょうは にほんごだけ です。" in card.inner_text()
        assert card.locator(".notice-title[lang='ja']").first.inner_text().startswith("広坂1丁目の断水")
        assert no_sideways_scroll(member) and clipped(member) == []
        assert axe_violations(member) == []
        shots.take(member, "easy", 360, "notice")
    finally:
        context.close()
    shots.write_index()
