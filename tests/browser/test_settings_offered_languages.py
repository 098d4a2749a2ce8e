"""設定 → 表示言語 in Chromium (issue 13 §10): a Nayoro admin turns English off by keyboard and by
clicking a label, the page fits a 360 px phone and a 1280 px screen with no axe violation, and
the citizen's language switch then offers 日本語 and やさしい日本語 only (``SCREENSHOTS_DIR``
keeps the pictures)."""
from __future__ import annotations

import pytest

from tests.browser.test_admin import new_staff, staff_login
from tests.browser.test_axe import TAGS
from tests.browser.test_settings_languages import shoot
from waterportal.tenancy.registry import get_registry


@pytest.mark.browser
def test_an_admin_turns_english_off_and_the_switch_no_longer_offers_it(page, live_server, live_app, browser):
    from axe_playwright_python.sync_playwright import Axe

    email = new_staff(live_app, "nayoro")
    staff_login(page, live_server, "nayoro", email)

    page.goto(live_server.url("nayoro", "/admin/settings/languages"))
    group = page.get_by_role("group", name="市民が選べる言語")
    japanese = group.get_by_role("checkbox", name="日本語", exact=True)
    english = group.get_by_role("checkbox", name="English(英語)")
    easy = group.get_by_role("checkbox", name="やさしい日本語")
    assert japanese.is_checked() and japanese.is_disabled()
    assert english.is_checked() and easy.is_checked()
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        result = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
        assert result.response["violations"] == [], f"axe at {width} px: {result.response['violations']}"
    shoot(page, "console-languages")

    english.focus()
    page.keyboard.press("Space")  # by keyboard
    assert not english.is_checked()
    page.get_by_text("やさしい日本語", exact=True).click()  # the label toggles its box
    assert not easy.is_checked()
    page.get_by_text("やさしい日本語", exact=True).click()
    assert easy.is_checked()
    page.get_by_role("button", name="保存する").click()
    assert "「表示言語」を保存しました" in page.locator(".flash").inner_text()
    assert not page.get_by_role("checkbox", name="English(英語)").is_checked()
    with live_app.app_context():
        assert list(get_registry().by_slug("nayoro").settings["languages"]["offered"]) == ["ja", "easy"]

    citizen = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US").new_page()
    try:
        citizen.goto(live_server.url("nayoro", "/login"))
        assert citizen.locator("html").get_attribute("lang") == "ja"  # English asked for, not offered
        citizen.locator(".language-switch summary").click()
        buttons = citizen.locator(".language-buttons button")
        assert buttons.all_inner_texts() == ["日本語", "やさしい日本語"]
    finally:
        citizen.context.close()

    # Restore tenant.toml for the other tests (as a rollback revision).
    page.goto(live_server.url("nayoro", "/admin/settings/history/0/rollback"))
    page.get_by_role("button", name="この状態に戻す").click()
    with live_app.app_context():
        assert list(get_registry().by_slug("nayoro").settings["languages"]["offered"]) == ["ja", "en", "easy"]
