"""Ids past 2**31 (national scale, core/ids.py): on PostgreSQL the contract, bill and issued
PDF sequences are moved past PostgreSQL's INTEGER, the files go through the real imports
(COPY, INSERT ... ON CONFLICT) and the member opens the bill on the normal pages."""
from __future__ import annotations

import contextlib

from sqlalchemy import create_engine, select

from tests.conftest import postgres_only
from tests.mypage.usage.conftest import history_rows
from waterportal.billing.models import BillDocument
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

pytestmark = postgres_only

START = 3_000_000_000  # beyond 2,147,483,647
NUMBER = "00012345682"


@contextlib.contextmanager
def sequences_from(owner_url: str, start: int, tables: tuple[str, ...]):
    """The tables' id sequences hand out ``start``, ``start + 1``, ... inside the block, and go
    back where they were after it (sequences ignore the test's rollback)."""
    engine = create_engine(owner_url)
    try:
        with engine.begin() as conn:
            names = [conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{t}', 'id')").scalar() for t in tables]
            before = [conn.exec_driver_sql(f"SELECT last_value, is_called FROM {name}").one() for name in names]
            for name in names:
                conn.exec_driver_sql(f"SELECT setval('{name}', {start}, false)")
        try:
            yield
        finally:
            with engine.begin() as conn:
                for name, (value, called) in zip(names, before, strict=True):
                    conn.exec_driver_sql(f"SELECT setval('{name}', {value}, {str(called).lower()})")
    finally:
        engine.dispose()


def test_a_bill_with_a_ten_digit_id_opens_on_the_members_pages(database_url, app, nayoro, client_for, customer,
                                                              login, bill_ids):
    with sequences_from(database_url, START, ("contracts", "bills", "bill_documents")):
        rows = history_rows(NUMBER, 2)
        customer(nayoro, [NUMBER], bills=rows)
        bills = bill_ids(nayoro, NUMBER)
        with app.app_context(), tenant_context(nayoro):
            contract_id = db.session.scalar(select(Contract.id).where(Contract.customer_number == NUMBER))
            issued = db.session.execute(select(BillDocument.id, BillDocument.bill_id, BillDocument.contract_id)).all()
    assert contract_id == START
    assert sorted(bills.values()) == [START, START + 1]
    assert issued and all(i >= START and b in bills.values() and c == contract_id for i, b, c in issued)

    client = client_for("nayoro")
    login(client, nayoro)
    newest = bills["2026-10"]
    body = client.get(f"/mypage/bills/{newest}").get_data(as_text=True)
    assert f"{int(rows[-1]['total']):,} 円" in body and NUMBER in body
    assert client.get(f"/mypage/bills/{bills['2026-09']}").status_code == 200
    pdf = client.get(f"/mypage/bills/{newest}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for issued_id, _bill, _contract in issued:
        assert client.get(f"/mypage/bill-documents/{issued_id}").data.startswith(b"%PDF")
    history = client.get(f"/mypage/bills/history/{contract_id}.csv")
    assert history.status_code == 200 and f",{rows[-1]['total']}," in history.data.decode("utf-8-sig")
    assert client.get(f"/mypage/bills/{START + 2}").status_code == 404  # the next id: nobody's yet
