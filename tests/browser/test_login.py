"""Login, the password show/hide toggle (with and without JavaScript) and logout in Chromium."""
from __future__ import annotations

import uuid

import pytest

from waterportal.accounts.models import Member
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

PASSWORD = "Passw0rd!x"


def new_member(app, slug: str) -> str:
    """A committed member of ``slug`` with a unique address; returns the address."""
    email = f"browser-{uuid.uuid4().hex[:10]}@example.jp"
    with app.app_context():
        city = get_registry().by_slug(slug)
        with tenant_context(city):
            db.session.add(Member(email=email, nickname="水道太郎", password_hash=hash_password(PASSWORD)))
            db.session.commit()
    return email


@pytest.mark.browser
def test_password_toggle_login_and_logout(page, live_server, live_app):
    email = new_member(live_app, "nayoro")
    page.goto(live_server.url("nayoro", "/login"))
    password = page.get_by_label("パスワード", exact=True)
    toggle = page.get_by_role("button", name="パスワードを表示")
    assert toggle.is_visible()
    password.fill(PASSWORD)
    toggle.click()
    assert password.get_attribute("type") == "text"
    assert page.get_by_role("button", name="パスワードを隠す").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="パスワードを隠す").click()
    assert password.get_attribute("type") == "password"

    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")
    assert "水道太郎さま、" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")
    assert "ログアウトしました。" in page.content()
    page.goto(live_server.url("nayoro", "/mypage"))
    assert page.url.startswith(live_server.url("nayoro", "/login"))


@pytest.mark.browser
def test_login_works_without_javascript(browser, live_server, live_app):
    email = new_member(live_app, "nayoro")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url("nayoro", "/login"))
        assert not page.get_by_role("button", name="パスワードを表示").is_visible()
        assert page.get_by_label("パスワード", exact=True).get_attribute("type") == "password"
        page.get_by_label("メールアドレス", exact=True).fill(email)
        page.get_by_label("パスワード", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="ログイン", exact=True).click()
        page.wait_for_url("**/mypage")
        assert "会員さま専用サイト" in page.content()
    finally:
        context.close()
