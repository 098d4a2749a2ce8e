"""A member with two years of bills opens the dashboard, the graph and a bill on a 360 px phone."""
from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from sqlalchemy import select

from tests.imports.helpers import contract_row, csv_text
from tests.mypage.usage.conftest import history_rows
from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

PASSWORD = "Passw0rd!x"


def member_with_bills(app) -> tuple[str, str, dict]:
    """A committed Nayoro member linked to a new contract with 24 monthly bills."""
    number = f"{random.randrange(10**10, 10**11):011d}"
    email = f"member-{uuid.uuid4().hex[:10]}@example.jp"
    rows = history_rows(number, 24, newest="2026-10")
    with app.app_context():
        city = get_registry().by_slug("nayoro")
        with tenant_context(city):
            assert import_contracts(city, csv_text(CONTRACT_COLUMNS, [contract_row(number)]).encode()).ok
            assert import_bills(city, csv_text(BILL_COLUMNS, rows).encode()).ok
            member = Member(email=email, nickname="風連花子", password_hash=hash_password(PASSWORD),
                            data_visible_from=dt.date(2026, 1, 1))
            db.session.add(member)
            db.session.flush()
            contract_id = db.session.scalar(select(Contract.id).where(Contract.customer_number == number))
            db.session.add(MemberContract(member_id=member.id, contract_id=contract_id))
            db.session.commit()
    return email, number, rows[-1]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.browser
def test_dashboard_graph_and_bill_detail_at_360px(page, live_server, live_app):
    email, number, newest = member_with_bills(live_app)
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")

    total = f"{int(newest['total']):,} 円"
    assert page.get_by_text("風連花子さま、").is_visible()
    assert page.get_by_text(number).is_visible()
    assert page.locator(".bill-amount").inner_text() == total
    assert page.get_by_role("button", name="ログアウト").is_visible()
    assert fits(page)

    page.get_by_role("link", name="使用量・請求金額のグラフ").click()
    page.wait_for_url("**/mypage/graph")
    assert page.locator("svg[role=img]").count() == 2  # usage and amount (the logo is the third img)
    usage = page.get_by_role("img", name="使用量の推移(m³)")
    box = usage.bounding_box()
    assert box and 200 < box["width"] <= 360 and box["height"] > 100
    assert f"直近1年 {newest['usage_m3']} m³" in page.locator("#usage-chart-desc").text_content()
    assert page.get_by_role("table").get_by_text(total).count() >= 1
    assert fits(page)

    page.goto(live_server.url("nayoro", "/mypage/bills"))
    page.get_by_role("link", name="2026年10月").click()
    page.wait_for_url("**/mypage/bills/*")
    content = page.content()
    assert "料金明細の詳細" in content and "M54321" in content and "13 mm" in content
    assert f"<dd>{newest['current_reading']}" in content and total in content
    assert page.get_by_role("link", name="検針票・請求書(PDF)をダウンロード").is_visible()
    assert fits(page)
