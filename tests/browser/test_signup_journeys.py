"""Each city end to end in Chromium: register through every screen with the code read
from a real SMTP server, log out, and log in again, in the manuals' words."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.smtp import find_code
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def add_contract(app, slug: str, **fields) -> None:
    with app.app_context():
        tenant = get_registry().by_slug(slug)
        with tenant_context(tenant):
            db.session.add(Contract(meter_number="M-1", meter_diameter_mm=20, address="市内", **fields))
            db.session.commit()


def code_for(mailbox, address: str) -> str:
    mailbox.wait_for(1)
    return find_code(mailbox.last_to(address))


def fill_contract(page, number: str, phone: str, kana: str, number_label: str = "お客様番号") -> None:
    page.get_by_label(number_label).fill(number)
    page.get_by_label("電話番号").fill(phone)
    page.get_by_label("お客様氏名カナ").fill(kana)
    page.locator("#agree_terms").check()
    page.locator("#agree_privacy").check()


@pytest.mark.browser
def test_nayoro_register_logout_login(page, live_server, live_app, live_mail):
    email, password = "journey-nayoro@example.jp", "Kita#Sora2026"
    add_contract(live_app, "nayoro", customer_number="00777666555", holder_name="名寄 一郎",
                 holder_name_kana="ナヨロイチロウ", phone="0165421111")
    live_mail.clear()

    page.goto(live_server.url("nayoro", "/"))
    assert page.get_by_role("textbox", name="メールアドレス").is_visible()
    assert page.get_by_label("パスワード", exact=True).is_visible()
    page.get_by_role("link", name="初めての方はこちら").click()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="認証コードの送信").click()
    page.get_by_label("認証コード").fill(code_for(live_mail, email))
    page.get_by_role("button", name="次へ").click()

    page.get_by_label("お名前(ニックネームでも登録いただけます)").fill("いちろう")
    page.locator("#password").fill(password)
    page.locator("#password_confirm").fill(password)
    fill_contract(page, "００７７７６６６５５５", "01654-2-1111", "なよろ いちろう")
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("heading", name="3/4 確認")).to_be_visible()
    page.get_by_role("button", name="登録").click()
    page.wait_for_url("**/register/done")
    assert "登録処理が完了しました。" in page.content()
    page.get_by_role("link", name="ポータルを利用する").click()

    login(page, "メールアドレス", email, password)
    assert "いちろうさま" in page.content()
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    login(page, "メールアドレス", email, password)
    assert "いちろうさま" in page.content()


@pytest.mark.browser
def test_kanazawa_register_logout_login(page, live_server, live_app, live_mail):
    email, login_id, password = "journey-kanazawa@example.jp", "kenroku2026", "kenrokuen2026"
    add_contract(live_app, "kanazawa", customer_number="0100777666", holder_name="金沢 次郎",
                 holder_name_kana="カナザワジロウ", phone="0762201111")
    live_mail.clear()

    page.goto(live_server.url("kanazawa", "/"))
    content = page.content()
    assert "ご利用時間の案内" in content and "セキュリティ確保のために" in content
    page.get_by_role("link", name="会員登録する").or_(page.get_by_role("button", name="会員登録する")).first.click()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="認証コードの送信").click()
    page.get_by_label("認証コード").fill(code_for(live_mail, email))
    page.get_by_role("button", name="次へ").click()

    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("お名前(ニックネームでも登録いただけます)").fill("じろう")
    page.locator("#password").fill(password)
    page.locator("#password_confirm").fill(password)
    page.get_by_label("秘密の質問", exact=True).select_option(index=1)
    page.get_by_label("秘密の質問の答え").fill("けんろくえん")
    fill_contract(page, "0100777666", "076-220-1111", "ｶﾅｻﾞﾜ ｼﾞﾛｳ", "お客さま番号")  # Kanazawa's manual's word
    page.get_by_role("button", name="確認").click()
    page.get_by_role("button", name="登録").click()
    page.wait_for_url("**/register/done")
    assert "登録処理が完了しました。" in page.content()
    page.get_by_role("link", name="ポータルを利用する").click()

    login(page, "ログインID", login_id, password)
    assert "じろうさま" in page.content()
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login*")
    login(page, "ログインID", login_id, password)
    assert "じろうさま" in page.content()


def login(page, id_label: str, identifier: str, password: str) -> None:
    page.get_by_role("textbox", name=id_label).fill(identifier)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン").click()
    # content() read while the next page is still loading is empty: wait for it.
    page.wait_for_url("**/mypage")
