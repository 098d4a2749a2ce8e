"""Both cities' portals in a real browser on a 360 px wide phone screen."""
from __future__ import annotations

import pytest


@pytest.mark.browser
@pytest.mark.parametrize(
    "slug, portal, brand",
    [("nayoro", "名寄市上下水道ポータル", "rgb(11, 94, 142)"), ("kanazawa", "金沢市上下水道ポータルサイト", "rgb(122, 31, 43)")],
)
def test_each_city_renders_in_its_colours_without_external_requests(page, live_server, slug, portal, brand):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url(slug, "/contact"))
    assert portal in page.title()
    header = page.locator("header.site-header")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == brand
    assert page.locator("img.logo").evaluate("img => img.naturalWidth") > 0
    # Nothing leaves the city's own host (no CDN, no fonts, no analytics).
    assert requests and all(url.startswith(live_server.url(slug, "")) for url in requests), requests
    # Mobile-first: nothing wider than the 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.browser
def test_keyboard_focus_is_visible(page, live_server):
    page.goto(live_server.url("nayoro", "/contact"))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "本文へ移動"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
