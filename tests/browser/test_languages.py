"""The language switch in Chromium (issue 13 §10): at 360 px the switch is on screen with
44 px buttons, reachable by keyboard, remembered across pages; the password toggle speaks
the page's language."""
from __future__ import annotations

import pytest


@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_switch_by_keyboard_at_360_px_is_remembered(page, live_server, slug):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url(slug, "/login"))
    assert page.locator("html").get_attribute("lang") == "ja"
    english = page.get_by_role("button", name="English")
    box = english.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    english.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="English").get_attribute("aria-current") == "true"
    toggle = page.get_by_role("button", name="Show password")
    toggle.click()
    assert page.get_by_role("button", name="Hide password").get_attribute("aria-pressed") == "true"
    page.goto(live_server.url(slug, "/register/"))  # the cookie carries the choice
    assert page.get_by_role("heading", level=1).inner_text() == "1/4 Email address"
    with page.expect_navigation():
        page.get_by_role("button", name="やさしい日本語").click()
    assert page.get_by_role("button", name="にんしょう コードを おくる").is_visible()
