"""Only the member's own contracts: another member's or another city's ids are 404 everywhere."""
from __future__ import annotations

import pytest
from sqlalchemy import delete

from tests.mypage.usage.conftest import history_rows
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

MINE, THEIRS = "00012345682", "00012345693"
KANAZAWA_NO = "0100012345"


@pytest.fixture
def three_customers(customer, nayoro, kanazawa, bill_ids, clock):
    """Hanako (Nayoro, MINE), Jiro (Nayoro, THEIRS), Ichiro (Kanazawa) with the same email as Hanako."""
    customer(nayoro, [MINE], bills=history_rows(MINE, 2))
    customer(nayoro, [THEIRS], bills=history_rows(THEIRS, 2), email="jiro@example.jp")
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 2, newest="2026-09", step=2))
    return {
        "mine": bill_ids(nayoro, MINE)["2026-10"],
        "theirs": bill_ids(nayoro, THEIRS)["2026-10"],
        "kanazawa": bill_ids(kanazawa, KANAZAWA_NO)["2026-09"],
    }


def test_other_members_and_other_cities_bills_are_404(client, nayoro, three_customers, login):
    login(client, nayoro)
    ids = three_customers
    assert client.get(f"/mypage/bills/{ids['mine']}").status_code == 200
    assert client.get(f"/mypage/bills/{ids['mine']}/pdf").status_code == 200
    for other in ("theirs", "kanazawa"):
        assert client.get(f"/mypage/bills/{ids[other]}").status_code == 404, other
        assert client.get(f"/mypage/bills/{ids[other]}/pdf").status_code == 404, other
    assert client.get("/mypage/bills/999999999").status_code == 404
    for path in ("/mypage", "/mypage/bills", "/mypage/graph", "/mypage/documents"):
        body = client.get(path).get_data(as_text=True)
        assert THEIRS not in body and KANAZAWA_NO not in body


def test_kanazawa_member_cannot_reach_nayoro_bills(client_for, kanazawa, three_customers, login):
    client = client_for("kanazawa")
    login(client, kanazawa)
    ids = three_customers
    assert client.get(f"/mypage/bills/{ids['kanazawa']}").status_code == 200
    assert client.get(f"/mypage/bills/{ids['mine']}").status_code == 404
    assert client.get(f"/mypage/bills/{ids['mine']}/pdf").status_code == 404


def test_a_removed_link_closes_the_contract(app, client, nayoro, three_customers, login):
    login(client, nayoro)
    bill_id = three_customers["mine"]
    with app.app_context(), tenant_context(nayoro):
        db.session.execute(delete(MemberContract))
        db.session.commit()
    assert client.get(f"/mypage/bills/{bill_id}").status_code == 404
    body = client.get("/mypage").get_data(as_text=True)
    assert "ご登録のお客様番号はありません。" in body and MINE not in body  # Nayoro's word
    assert '<a href="/mypage/contracts">各種お手続き</a>からお客様番号を追加してください。' in body  # Nayoro's word


def test_member_pages_need_login(client, three_customers):
    for path in ("/mypage/graph", "/mypage/bills", "/mypage/documents", f"/mypage/bills/{three_customers['mine']}",
                 f"/mypage/bills/{three_customers['mine']}/pdf", "/mypage/documents/1"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
