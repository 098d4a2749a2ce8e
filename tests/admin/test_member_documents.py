"""会員サポート > 検針票・請求書: the city's staff search a member's issued bill PDFs (発行日, 金額,
発行者) and download one as stored, audited; another member's or city's document is a 404."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from tests.billing.issued import issued_bill
from waterportal.billing.models import BillDocument
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context


def member_with_document(app, tenant, make_member, make_contract, email="shimin@example.jp"):
    member_id = make_member(tenant, email=email)
    contract_id = make_contract(tenant)
    with app.app_context(), tenant_context(tenant):
        db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
        db.session.commit()
    return member_id, issued_bill(app, tenant, contract_id)


def test_staff_search_and_download_a_members_documents(app, staff_client, nayoro, make_member, make_contract,
                                                      audit_entries):
    member_id, issued_id = member_with_document(app, nayoro, make_member, make_contract)
    with app.app_context(), tenant_context(nayoro):
        document = db.session.scalar(select(BillDocument).where(BillDocument.id == issued_id))
        sha256 = document.sha256
    operator = staff_client("nayoro", role="operator")
    assert "発行済みの検針票・請求書を検索する" in operator.get(f"/admin/members/{member_id}").get_data(as_text=True)
    page = operator.get(f"/admin/members/{member_id}/documents")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert sha256 in body and "2026-10 第1版" in body and "5,000 円" in body and "T4000020012211" in body
    for query, shown in (("issued_from=2026-11-02", False), ("issued_to=2026-11-01", True),
                         ("amount_min=5001", False), ("amount_max=5000", True), ("issuer=T4000020012211", True)):
        assert (sha256 in operator.get(f"/admin/members/{member_id}/documents?{query}").get_data(as_text=True)) is shown
    refused = operator.get(f"/admin/members/{member_id}/documents?issued_from=2026-11-02&issued_to=2026-11-01")
    assert refused.status_code == 422 and "「から」より後の日付" in refused.get_data(as_text=True)
    download = operator.get(f"/admin/members/{member_id}/documents/{issued_id}")
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == sha256
    assert download.headers["Cache-Control"] == "no-store"
    (entry,) = audit_entries(nayoro, "bill_document.downloaded")
    assert entry[2] == f"member:{member_id}" and entry[3]["sha256"] == sha256 and entry[3]["issued_id"] == issued_id


def test_another_members_or_citys_document_is_not_found(app, staff_client, nayoro, kanazawa, make_member,
                                                        make_contract, audit_entries):
    member_id, _own = member_with_document(app, nayoro, make_member, make_contract)
    _other_member, others = member_with_document(app, nayoro, make_member, make_contract, email="tonari@example.jp")
    kanazawa_member, kanazawa_document = member_with_document(app, kanazawa, make_member, make_contract)
    admin = staff_client("nayoro")
    assert admin.get(f"/admin/members/{member_id}/documents/{others}").status_code == 404
    assert admin.get(f"/admin/members/{member_id}/documents/{kanazawa_document}").status_code == 404
    assert admin.get(f"/admin/members/{kanazawa_member}/documents").status_code == 404
    assert audit_entries(nayoro, "bill_document.downloaded") == []
