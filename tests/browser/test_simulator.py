"""料金シミュレーション in Chromium at 360 px, by keyboard only (issue 14 §3)."""
from __future__ import annotations

import pytest


@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_simulator_works_by_keyboard_on_a_phone(page, live_server, slug):
    page.goto(live_server.url(slug, "/simulator"))
    # Keyboard only: the first 口径 is chosen already; Tab to the usage field, type, submit with Enter.
    page.locator("#usage").focus()
    page.keyboard.type("35")
    page.keyboard.press("Enter")
    page.wait_for_selector(".simulator-result")
    result = page.locator(".simulator-result")
    assert "計算結果" in result.inner_text() and "基本料金" in result.inner_text()
    # Nothing wider than the screen; the breakdown tables scroll inside their focusable region.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    region = page.locator(".table-wrap").first
    assert region.get_attribute("tabindex") == "0"
    box = region.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    # A bad usage: the error at its field, the value kept, focus can reach the field from the summary.
    page.locator("#usage").fill("abc")
    page.keyboard.press("Enter")
    page.wait_for_selector("#usage-error")
    assert page.locator("#usage").input_value() == "abc"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
