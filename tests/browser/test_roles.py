"""One browser test per console role on a phone-sized screen (the city admin's is in
test_admin.py): an operator finds a member by customer number, and the vendor console on
vendor.localhost lists both cities with their figures."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.browser.layout import no_sideways_scroll
from waterportal.accounts.models import Member
from waterportal.admin.staff.services import create_staff
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry
from waterportal.vendor_console.auth import create_vendor_staff

STAFF_PASSWORD = "Josui-Pump-2026!"
VENDOR_PASSWORD = "Unyo-Jigyosha-2026!"




def member_with_contract(app, slug: str, customer_number: str) -> str:
    """A member of ``slug`` linked to a new contract; returns the member's email."""
    email = f"m{uuid.uuid4().hex[:8]}@example.jp"
    with app.app_context():
        tenant = get_registry().by_slug(slug)
        with tenant_context(tenant):
            contract = Contract(customer_number=customer_number, holder_name="名寄 花子", holder_name_kana="ナヨロハナコ",
                                phone="0165432111", address="風連町西町1番地", meter_number="M1", meter_diameter_mm=13)
            member = Member(email=email, nickname="花子", password_hash=hash_password("Passw0rd!x"))
            db.session.add_all([contract, member])
            db.session.flush()
            db.session.add(MemberContract(member_id=member.id, contract_id=contract.id, label="自宅"))
            db.session.commit()
    return email


@pytest.mark.browser
def test_an_operator_finds_a_member_by_customer_number(page, live_server, live_app):
    email = f"madoguchi-{uuid.uuid4().hex[:6]}@example.jp"
    with live_app.app_context():
        tenant = get_registry().by_slug("nayoro")
        with tenant_context(tenant):
            create_staff(tenant, email, "operator", "名寄 窓口", password=STAFF_PASSWORD)
            db.session.commit()
    member_email = member_with_contract(live_app, "nayoro", "07654321098")

    page.goto(live_server.url("nayoro", "/admin/login"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="会員サポート").click()
    page.get_by_label("検索項目").select_option(label="お客様番号")
    page.get_by_label("検索する値").fill("０７６５-４３２１-０９８")  # as a caller reads it out, typed full-width
    page.get_by_role("button", name="検索する").click()
    page.get_by_role("heading", name="検索結果(1件)").wait_for()
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=member_email).click()
    page.get_by_role("heading", name="会員情報").wait_for()
    contracts = page.get_by_role("region", name=re.compile("登録している契約"))
    assert "07654321098" in contracts.inner_text() and "自宅" in contracts.inner_text()
    assert "ログイン(パスワードの誤り)" in page.get_by_role("region", name="操作の制限").inner_text()
    assert no_sideways_scroll(page)


@pytest.mark.browser
def test_the_vendor_console_lists_both_cities_with_their_figures(page, live_server, live_app):
    email = f"unyo-{uuid.uuid4().hex[:6]}@vendor.example"
    with live_app.app_context():
        create_vendor_staff(email, VENDOR_PASSWORD, "運用 担当")
        db.session.commit()
    member_with_contract(live_app, "kanazawa", "0999999999")
    expected = {}
    with live_app.app_context():
        for slug in ("nayoro", "kanazawa"):
            with tenant_context(get_registry().by_slug(slug)):
                expected[slug] = (db.session.scalar(select(func.count(Member.id))),
                                  db.session.scalar(select(func.count(Contract.id))))

    page.goto(f"http://vendor.localhost:{live_server.port}/")
    page.wait_for_url("**/vendor/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(VENDOR_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("heading", name="市町村の一覧").wait_for()
    for slug, name in (("nayoro", "名寄市"), ("kanazawa", "金沢市")):
        row = page.locator(f'tr[data-city="{slug}"]')
        assert name in row.inner_text() and f"{slug}.localhost" in row.inner_text() and "稼働中" in row.inner_text()
        members, contracts = expected[slug]
        assert row.locator('[data-figure="members"]').inner_text() == f"{members:,}"
        assert row.locator('[data-figure="contracts"]').inner_text() == f"{contracts:,}"
        assert row.get_by_role("button", name=f"{name}の管理画面を開く").is_visible()
    assert expected["kanazawa"][0] >= 1


@pytest.mark.browser
def test_the_vendor_opens_a_citys_console_from_the_list(page, live_server, live_app):
    email = f"unyo-{uuid.uuid4().hex[:6]}@vendor.example"
    with live_app.app_context():
        create_vendor_staff(email, VENDOR_PASSWORD, "運用 担当")
        db.session.commit()
    page.goto(f"http://vendor.localhost:{live_server.port}/vendor/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(VENDOR_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("button", name="金沢市の管理画面を開く").click()
    page.get_by_role("heading", name="管理画面トップ").wait_for()
    assert page.url == live_server.url("kanazawa", "/admin/")
    assert "ベンダー 運用 担当" in page.locator(".who").inner_text()
