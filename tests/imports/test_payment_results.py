"""The payment-result import (issue 12 §4): a collector's report makes a bill 納付済 with the
channel; bad lines (unknown bill, channel, date) reject the whole file by line."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.imports.helpers import NAYORO_NO, bill_row, bills_of, csv_text
from waterportal.audit.models import AuditEntry
from waterportal.extensions import db
from waterportal.imports.payment_results import REQUIRED, import_payments
from waterportal.imports.services import import_bills
from waterportal.tenancy.context import tenant_context

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture
def bills(nayoro, make_contract, bills_csv):
    make_contract(nayoro, customer_number=NAYORO_NO)
    assert import_bills(nayoro, bills_csv([bill_row(NAYORO_NO, "2026-09"), bill_row(NAYORO_NO, "2026-10")])).ok
    db.session.commit()


def run(tenant, rows):
    with tenant_context(tenant):
        result = import_payments(tenant, csv_text(REQUIRED, rows).encode(), filename="payments.csv")
        db.session.commit()
    return result


def test_a_reported_payment_makes_the_bill_paid_with_its_channel(nayoro, bills):
    rows = [{"customer_number": NAYORO_NO, "billing_month": "2026-10", "paid_on": "2026-11-05", "channel": "コンビニ"}]
    result = run(nayoro, rows)
    assert (result.ok, result.paid, result.unchanged) == (True, 1, 0)
    september, october = bills_of(nayoro)
    assert (october.paid_on, october.paid_via) == (dt.date(2026, 11, 5), "コンビニ")
    assert (september.paid_on, september.paid_via) == (None, None)
    again = run(nayoro, rows)
    assert (again.paid, again.unchanged) == (0, 1)
    with tenant_context(nayoro):
        assert [e.action for e in db.session.scalars(select(AuditEntry))].count("bill.payment_import") == 2


def test_bad_lines_reject_the_file(nayoro, bills, kanazawa):
    rows = [
        {"customer_number": NAYORO_NO, "billing_month": "2026-09", "paid_on": "2026-10-05", "channel": "スマホ決済"},
        {"customer_number": NAYORO_NO, "billing_month": "2026-11", "paid_on": "2026-11-05", "channel": "コンビニ"},
        {"customer_number": NAYORO_NO, "billing_month": "2026-10", "paid_on": "2026/11/05", "channel": "現金書留"},
        {"customer_number": NAYORO_NO, "billing_month": "2026-09", "paid_on": "2026-10-06", "channel": "コンビニ"},
    ]
    result = run(nayoro, rows)
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "billing_month"), (4, "paid_on"), (4, "channel"), (5, "customer_number")]
    assert "2026-11 分の請求はありません" in result.errors[0].message
    assert all(bill.paid_on is None for bill in bills_of(nayoro))  # nothing half-imported
    # Another city's bill is not this city's: Kanazawa's import does not find Nayoro's.
    other = run(kanazawa, [{"customer_number": "0100012345", "billing_month": "2026-09", "paid_on": "2026-10-05",
                            "channel": "コンビニ"}])
    assert [(e.line, e.column) for e in other.errors] == [(2, "billing_month")]


def test_the_command(runner, nayoro, bills, tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text(csv_text(REQUIRED, [{"customer_number": NAYORO_NO, "billing_month": "2026-09",
                                         "paid_on": "2026-10-05", "channel": "オンライン決済"}]), encoding="utf-8")
    result = runner.invoke(args=["import", "payments", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 0, result.output
    assert "nayoro payments ok: 1 row(s): 1 bill(s) paid, 0 unchanged" in result.output
    assert bills_of(nayoro)[0].paid_via == "オンライン決済"
