"""見守り (issue 14 §6) in Chromium at 360 px, by keyboard only: from お知らせメールの受取設定 to the
form, the family address and the days typed and chosen, the code from the real mail typed in;
and ④'s 30 days of daily use fit the phone."""
from __future__ import annotations

import pytest

from tests.browser.layout import no_sideways_scroll, reaches_by_tab
from tests.browser.members import PASSWORD, member_with_bills
from tests.smtp import find_code


def log_in(page, live_server, slug: str, identifier: str) -> None:
    page.goto(live_server.url(slug, "/login"))
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/mypage")


@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_watch_is_set_by_keyboard_on_a_phone(page, live_app, live_server, live_mail, slug):
    identifier, number, _rows = member_with_bills(live_app, slug)
    family = f"kazoku-{slug}@example.jp"
    log_in(page, live_server, slug, identifier)

    page.goto(live_server.url(slug, "/mypage/graph"))
    assert page.locator("#daily-chart-heading").is_visible() and no_sideways_scroll(page)
    assert page.locator("#daily-table-caption").is_visible()

    page.goto(live_server.url(slug, "/mypage/profile/notifications"))
    assert reaches_by_tab(page, "a[href$='/mypage/profile/watch']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/mypage/profile/watch")
    assert no_sideways_scroll(page)
    # The radio of the only contract, by keyboard: Tab to the group, Space checks it.
    assert reaches_by_tab(page, "input[name=contract_id]")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type(family)
    page.keyboard.press("Tab")
    page.keyboard.press("End")  # the days: the last choice, 7日間
    page.locator("#email").press("Enter")
    page.wait_for_url("**/mypage/profile/watch/verify")
    assert family in page.locator("main").inner_text() and no_sideways_scroll(page)

    mail = live_mail.wait_for(1)
    code = find_code(live_mail.last_to(family))
    assert mail and number not in str(live_mail.last_to(family))
    page.locator("#code").focus()  # the field has autofocus; focus it again in case the flash took it
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url("**/mypage/profile/notifications")
    text = page.locator("main").inner_text()
    assert "見守りを開始しました。" in text and f"水道が7日間使われていないとき、{family} にお知らせします。" in text
    assert no_sideways_scroll(page)
