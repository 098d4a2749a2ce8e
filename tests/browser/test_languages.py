"""The language switch in Chromium (issue 13 §10): at 360 px the switch is one small button in
the header's first row (a <details>) that opens 44 px buttons, all by keyboard, remembered
across pages; the password toggle speaks the page's language."""
from __future__ import annotations

import pytest


@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_switch_by_keyboard_at_360_px_is_remembered(page, live_server, slug):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url(slug, "/login"))
    assert page.locator("html").get_attribute("lang") == "ja"
    switch = page.locator(".language-switch summary")
    box = switch.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 100
    english = page.get_by_role("button", name="English")
    assert not english.is_visible()  # folded until opened
    switch.focus()
    page.keyboard.press("Enter")  # a <details>: opened by the keyboard alone
    box = english.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # 日本語, then English
    assert english.evaluate("e => e === document.activeElement")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="English", include_hidden=True).get_attribute("aria-current") == "true"
    toggle = page.get_by_role("button", name="Show password")
    toggle.click()
    assert page.get_by_role("button", name="Hide password").get_attribute("aria-pressed") == "true"
    page.goto(live_server.url(slug, "/register/"))  # the cookie carries the choice
    assert page.get_by_role("heading", level=1).inner_text() == "1/4 Email address"
    page.locator(".language-switch summary").click()
    with page.expect_navigation():
        page.get_by_role("button", name="やさしい日本語").click()
    assert page.get_by_role("button", name="にんしょう コードを おくる").is_visible()
