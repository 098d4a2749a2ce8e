"""Registration in a real browser: the whole Nayoro flow on a phone-sized screen, and the
password rules ticking as the citizen types (password-policy.js)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def _city(app, slug):
    with app.app_context():
        return get_registry().by_slug(slug)


def _add_contract(app, slug: str, number: str) -> None:
    tenant = _city(app, slug)
    with app.app_context(), tenant_context(tenant):
        if db.session.scalar(select(Contract).where(Contract.customer_number == number)) is None:
            db.session.add(Contract(
                customer_number=number, holder_name="水道 太郎", holder_name_kana="スイドウタロウ",
                phone="0165432111", address="風連町西町196番地1", meter_number="M1", meter_diameter_mm=13,
            ))
            db.session.commit()


def _code(app, slug: str, email: str) -> str:
    tenant = _city(app, slug)
    with app.app_context(), tenant_context(tenant):
        body = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.to_address == email).order_by(OutboxMessage.id.desc())
        ).first()
    return re.search(r"認証コード: (\d{6})", body).group(1)


@pytest.mark.browser
def test_nayoro_registration_in_a_browser(page, live_server, live_app):
    email = "browser-taro@example.jp"
    _add_contract(live_app, "nayoro", "00999888777")
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_role("link", name="初めての方はこちら").click()
    expect(page.get_by_role("heading", name="1/4 メールアドレス登録")).to_be_visible()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="認証コードの送信").click()
    page.get_by_label("認証コード").fill(_code(live_app, "nayoro", email))
    page.get_by_role("button", name="次へ").click()

    assert page.get_by_role("heading", name="2/4 会員情報入力").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("お名前(ニックネームでも登録いただけます)").fill("水道太郎")
    password = page.locator("#password")
    password.type("suido")
    rules = page.locator("ul.policy li.ok")
    assert [li.get_attribute("data-rule") for li in rules.all()] == ["lower", "charset"]
    password.type("#2026AB")
    assert sorted(li.get_attribute("data-rule") for li in rules.all()) == sorted(
        ["length", "upper", "lower", "digit", "symbol", "charset"]
    )
    assert page.locator("#password-status").text_content() == "条件6項目のうち6項目を満たしています。"
    page.locator("#password_confirm").fill("suido#2026A")
    assert page.locator("#password-confirm-status").text_content() == "パスワードが一致していません。"
    page.locator("#password_confirm").fill("suido#2026AB")
    assert page.locator("#password-confirm-status").text_content() == "パスワードが一致しています。"
    page.get_by_label("お客様番号").fill("００９９９８８８７７７")
    page.get_by_label("電話番号").fill("01654-3-2111")
    page.get_by_label("お客様氏名カナ").fill("すいどう たろう")
    page.locator("#agree_terms").check()
    page.locator("#agree_privacy").check()
    page.get_by_role("button", name="確認").click()

    assert page.get_by_role("heading", name="3/4 確認").is_visible()
    page.get_by_role("button", name="登録").click()
    expect(page.get_by_role("heading", name="4/4 会員登録完了")).to_be_visible()
    assert "登録処理が完了しました。" in page.content()
    page.get_by_role("link", name="ポータルを利用する").click()
    page.wait_for_url(live_server.url("nayoro", "/login"))
