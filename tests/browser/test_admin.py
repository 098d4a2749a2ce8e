"""The staff console in Chromium on a phone-sized screen: a Kanazawa admin changes the
service hours (after previewing the login page) and posts a notice a member then sees."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.layout import no_sideways_scroll
from waterportal.accounts.models import Member
from waterportal.admin.staff.services import create_staff
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

STAFF_PASSWORD = "Josui-Pump-2026!"
MEMBER_PASSWORD = "Passw0rd!x"


def new_staff(app, slug: str, role: str = "admin") -> str:
    email = f"staff-{uuid.uuid4().hex[:8]}@example.jp"
    with app.app_context():
        tenant = get_registry().by_slug(slug)
        with tenant_context(tenant):
            create_staff(tenant, email, role, "金沢 管理", password=STAFF_PASSWORD)
            db.session.commit()
    return email


def staff_login(page, live_server, slug: str, email: str, *, by_keyboard: bool = False) -> None:
    """Log ``email`` (made by :func:`new_staff`) in to ``slug``'s console, on its top page;
    ``by_keyboard`` sends the form with Enter from the password field."""
    page.goto(live_server.url(slug, "/admin/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    if by_keyboard:
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name="ログイン").click()
    page.get_by_role("heading", name="管理画面トップ").wait_for()


def new_member(app, slug: str) -> str:
    login_id = f"m{uuid.uuid4().hex[:9]}"
    with app.app_context():
        tenant = get_registry().by_slug(slug)
        with tenant_context(tenant):
            db.session.add(Member(email=f"{login_id}@example.jp", login_id=login_id, nickname="水道太郎",
                                  password_hash=hash_password(MEMBER_PASSWORD)))
            db.session.commit()
    return login_id




@pytest.mark.browser
def test_city_admin_edits_service_hours_and_posts_a_notice_members_see(page, live_server, live_app, browser):
    email = new_staff(live_app, "kanazawa")
    page.goto(live_server.url("kanazawa", "/admin/"))
    assert "/admin/login" in page.url
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("heading", name="管理画面トップ").wait_for()
    assert no_sideways_scroll(page)

    # 設定 > 利用時間・休業日: preview first, then save.
    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="設定").click()
    page.get_by_role("link", name="利用時間・休業日").click()
    opens = page.get_by_label("利用開始時刻")
    assert opens.input_value() == "07:00"
    opens.fill("06:30")
    page.get_by_label("利用終了時刻").fill("23:30")
    page.get_by_role("button", name="ログイン画面をプレビュー").click()
    preview = page.frame_locator("iframe[title='ログイン画面のプレビュー']")
    assert "金沢市上下水道ポータルサイト ログイン" in preview.locator("h1").inner_text()
    assert page.get_by_label("利用開始時刻").input_value() == "06:30"  # kept for saving
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="保存する").click()
    assert "「利用時間・休業日」を保存しました" in page.locator(".flash").inner_text()
    with live_app.app_context():
        hours = get_registry().by_slug("kanazawa").settings["service_hours"]
    assert dict(hours) == {"open": "06:30", "close": "23:30"}

    # お知らせ: an important notice with a link.
    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="お知らせ", exact=True).click()
    page.get_by_role("link", name="お知らせを作成する").click()
    # The Japanese title and body (タイトル(英語)... follow them, optional).
    page.locator("#title").fill("ご利用時間の変更")
    page.locator("#body").fill("ご利用時間を 6:30〜23:30 に変更しました。詳しくは https://www.city.kanazawa.example/ をご覧ください。")
    page.get_by_label("重要なお知らせとして表示する").check()
    page.get_by_role("button", name="登録する").click()
    item = page.locator(".notice-list li").first
    assert "ご利用時間の変更" in item.inner_text() and "New" in item.inner_text() and "掲載中" in item.inner_text()
    assert item.get_by_role("link", name="https://www.city.kanazawa.example/").get_attribute("rel") == "noopener noreferrer"
    assert no_sideways_scroll(page)

    # A member of Kanazawa sees it on the dashboard at once.
    login_id = new_member(live_app, "kanazawa")
    member = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP").new_page()
    try:
        member.goto(live_server.url("kanazawa", "/login"))
        member.get_by_label("ログインID").fill(login_id)
        member.get_by_label("パスワード", exact=True).fill(MEMBER_PASSWORD)
        member.get_by_role("button", name="ログイン").click()
        member.wait_for_url("**/mypage**")
        assert "ご利用時間の変更" in member.locator("#notices-title + ul").inner_text()
    finally:
        member.context.close()

    # Restore the hours for the other tests of the module (as a rollback revision).
    page.goto(live_server.url("kanazawa", "/admin/settings/history/0/rollback"))
    page.get_by_role("button", name="この状態に戻す").click()
    with live_app.app_context():
        assert get_registry().by_slug("kanazawa").settings["service_hours"]["open"] == "07:00"


@pytest.mark.browser
def test_an_operator_sees_notices_but_no_settings(page, live_server, live_app):
    email = new_staff(live_app, "nayoro", role="operator")
    page.goto(live_server.url("nayoro", "/admin/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    nav = page.get_by_role("navigation", name="管理メニュー")
    nav.get_by_role("link", name="お知らせ", exact=True).wait_for()
    assert nav.get_by_role("link", name="設定").count() == 0
    response = page.goto(live_server.url("nayoro", "/admin/settings"))
    assert response.status == 403
