"""The console's translation of a city's contact windows in Chromium (issue 13 §10): a Kanazawa
admin picks English by keyboard, writes a window's English name and hours beside the Japanese
ones, and the citizen's English contact page shows them; both pages fit a 360 px phone and a
1280 px screen (``SCREENSHOTS_DIR`` keeps the pictures)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.layout import clipped, no_sideways_scroll
from tests.browser.test_admin import new_staff, staff_login
from waterportal.tenancy.registry import get_registry


def shoot(page, name: str) -> None:
    """Check the page fits at 360 and 1280 px; keep a picture of each when asked to."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert no_sideways_scroll(page), f"{name} at {width} px scrolls sideways"
        assert clipped(page) == [], f"{name} at {width} px"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})


@pytest.mark.browser
def test_an_admin_translates_a_window_and_the_english_contact_page_shows_it(page, live_server, live_app, browser):
    email = new_staff(live_app, "kanazawa")
    staff_login(page, live_server, "kanazawa", email)

    page.goto(live_server.url("kanazawa", "/admin/settings/contact"))
    choice = page.get_by_role("navigation", name="編集する言語")
    assert choice.get_by_role("link", name="日本語", exact=True).get_attribute("aria-current") == "page"
    choice.get_by_role("link", name="English").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="お問い合わせ窓口(English)").wait_for()
    name = page.get_by_label("窓口名(English)").first
    name.fill("Customer Service Center, Kanazawa Enterprise Bureau")
    page.get_by_label("受付時間(English)").first.fill("Weekdays 8:30 a.m.–5:45 p.m.")
    page.get_by_label("所在地(English)").first.fill("")  # emptied: the Japanese address is shown, with a note
    assert "金沢市企業局 お客さまサービスセンター" in page.locator(".original-text").first.inner_text()  # the Japanese beside it
    shoot(page, "console-contact-en")
    page.get_by_role("button", name="保存する").click()
    assert "「お問い合わせ窓口(English)」を保存しました" in page.locator(".flash").inner_text()
    assert page.get_by_label("窓口名(English)").first.input_value() == "Customer Service Center, Kanazawa Enterprise Bureau"

    citizen = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US").new_page()
    try:
        citizen.goto(live_server.url("kanazawa", "/contact"))
        assert "Customer Service Center, Kanazawa Enterprise Bureau" in citizen.locator("h2").first.inner_text()
        first = citizen.locator(".windows > li").first
        assert "Some of these details are available in Japanese only." in first.inner_text()
        assert first.locator('[lang="ja"]').inner_text() == "金沢市広坂1丁目1番1号"
        shoot(citizen, "citizen-contact-en")
    finally:
        citizen.context.close()

    # Restore tenant.toml for the other tests of the module (as a rollback revision).
    page.goto(live_server.url("kanazawa", "/admin/settings/history/0/rollback"))
    page.get_by_role("button", name="この状態に戻す").click()
    with live_app.app_context():
        restored = get_registry().by_slug("kanazawa").settings["contact"]["windows"][0]["en"]
        assert (restored["name"], restored["address"]) == (
            "Customer Service Center, Kanazawa City Public Enterprise Bureau", "1-1-1 Hirosaka, Kanazawa")  # tenant.toml's


@pytest.mark.browser
def test_the_text_and_faq_translation_pages_fit_a_phone_and_a_screen(page, live_server, live_app):
    email = new_staff(live_app, "nayoro")
    staff_login(page, live_server, "nayoro", email)
    page.goto(live_server.url("nayoro", "/admin/settings/pages?lang=en"))
    assert "名寄市上下水道ポータルは" in page.locator(".original-text").first.inner_text()
    page.get_by_label("このサイトについて(English)").fill("The Nayoro water portal. Hours: {service_hours}.")
    page.get_by_role("button", name="ログイン画面をプレビュー").click()
    assert page.get_by_label("このサイトについて(English)").input_value().startswith("The Nayoro water portal.")
    shoot(page, "console-pages-en")
    page.goto(live_server.url("nayoro", "/admin/settings/faq?lang=easy"))
    page.get_by_role("heading", name="よくある質問(やさしい日本語)").wait_for()
    shoot(page, "console-faq-easy")
