"""The Content-Security-Policy in Chromium: the main pages of both cities, the member's
pages and the console show in their colours with nothing blocked (the ``page`` fixture
fails a test on any violation the browser reports)."""
from __future__ import annotations

import pytest

from tests.browser.test_admin import new_staff, staff_login
from tests.browser.test_member_pages import PASSWORD, member_with_bills

BRAND = {"nayoro": "rgb(11, 94, 142)", "kanazawa": "rgb(122, 31, 43)"}


def header_colour(page_or_frame) -> str:
    return page_or_frame.locator("header.site-header").evaluate("el => getComputedStyle(el).backgroundColor")


@pytest.mark.browser
def test_the_browser_reports_what_the_policy_blocks(page, live_server):
    """The check every browser test relies on: an inline style is blocked and reported."""
    page.goto(live_server.url("nayoro", "/login"))
    page.evaluate("document.body.setAttribute('style', 'background: red')")
    page.wait_for_function("getComputedStyle(document.body).backgroundColor !== 'rgb(255, 0, 0)'")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in page.csp_violations), page.csp_violations
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    page.csp_violations.clear()


@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_citizen_pages_keep_their_colours_under_the_policy(page, live_server, slug):
    for path in ("/login", "/register/help", "/contact", "/faq", "/no-such-page"):
        response = page.goto(live_server.url(slug, path))
        assert response.headers["content-security-policy"].startswith("default-src 'self'"), path
        assert header_colour(page) == BRAND[slug], path
    page.goto(f"http://unknown.localhost:{live_server.port}/")  # the plain page, its own stylesheet
    assert page.locator("body").evaluate("el => getComputedStyle(el).marginTop") == "32px"


@pytest.mark.browser
def test_member_pages_and_the_console_under_the_policy(page, live_server, live_app):
    email, _number, _newest = member_with_bills(live_app)
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")
    for path in ("/mypage", "/mypage/graph", "/mypage/bills", "/mypage/profile"):
        page.goto(live_server.url("nayoro", path))
        assert header_colour(page) == BRAND["nayoro"], path

    staff = new_staff(live_app, "kanazawa")
    staff_login(page, live_server, "kanazawa", staff)
    page.goto(live_server.url("kanazawa", "/admin/settings/branding"))
    swatch = page.locator("svg.swatch rect").first
    assert swatch.get_attribute("fill") == "#7a1f2b"
    # The preview of unsaved colours: the login page inside a sandboxed frame, in the new colour.
    page.get_by_label("基本色(ヘッダーの背景)").fill("#123456")
    page.get_by_role("button", name="ログイン画面をプレビュー").click()
    frame = page.frame_locator("iframe[title='ログイン画面のプレビュー']")
    frame.locator("header.site-header").wait_for()
    assert header_colour(frame) == "rgb(18, 52, 86)"
