"""Bills import, payment columns (issue 12 §3) and the contracts import's billing cycle (§5):
stored as sent; an unknown 振替結果コード, method or cycle is a line error that rejects the file."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.imports.helpers import NAYORO_NO, bill_row, bills_of, contract_row, contracts_of
from waterportal.billing import slip
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS, PAYMENT_COLUMNS

pytestmark = pytest.mark.usefixtures("app_ctx")
HEADER = (*BILL_COLUMNS, *PAYMENT_COLUMNS)


@pytest.fixture
def contract(nayoro, make_contract):
    return make_contract(nayoro, customer_number=NAYORO_NO)


def run(tenant, path):
    result = import_bills(tenant, path, actor="test")
    db.session.commit()
    return result


def test_payment_details_are_stored_as_sent(nayoro, contract, bills_csv):
    rows = [
        bill_row(NAYORO_NO, "2026-08", payment_method="口座振替", transfer_date="2026-09-28", transfer_result="0",
                 paid_on="2026-09-28"),
        bill_row(NAYORO_NO, "2026-09", payment_method="口座振替", transfer_date="2026-10-28", transfer_result="１",
                 message="  漏水の可能性があります。　点検をお勧めします "),
        bill_row(NAYORO_NO, "2026-10", payment_method="スマホ決済"),
        bill_row(NAYORO_NO, "2026-11"),
    ]
    assert run(nayoro, bills_csv(rows, header=HEADER)).inserted == 4
    stored = [(b.payment_method, b.transfer_date, b.transfer_result, b.message) for b in bills_of(nayoro)]
    assert stored == [
        ("口座振替", dt.date(2026, 9, 28), "0", None),
        ("口座振替", dt.date(2026, 10, 28), "1", "漏水の可能性があります。 点検をお勧めします"),
        ("スマホ決済", None, None, None),
        (None, None, None, None),
    ]


def test_unknown_codes_and_methods_reject_the_file_by_line(nayoro, contract, bills_csv):
    rows = [
        bill_row(NAYORO_NO, "2026-08", payment_method="口座振替", transfer_result="0"),
        bill_row(NAYORO_NO, "2026-09", payment_method="口座振替", transfer_result="5"),
        bill_row(NAYORO_NO, "2026-10", payment_method="現金書留"),
        bill_row(NAYORO_NO, "2026-11", payment_method="納付書", transfer_result="1"),
        bill_row(NAYORO_NO, "2026-12", transfer_date="2026-13-01", message="あ" * 201),
    ]
    result = run(nayoro, bills_csv(rows, header=HEADER))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "transfer_result"), (4, "payment_method"), (5, "payment_method"), (6, "transfer_date"), (6, "message"),
    ]
    assert "0 振替済" in result.errors[0].message and "9 その他" in result.errors[0].message
    assert bills_of(nayoro) == []  # nothing half-imported


def test_the_billing_cycle_is_optional_per_contract(nayoro, contracts_csv, write_csv):
    header = (*CONTRACT_COLUMNS, "billing_cycle")
    rows = [contract_row("01234567891", billing_cycle="bimonthly"), contract_row("01234567892", billing_cycle=""),
            contract_row("01234567893", billing_cycle="Monthly")]
    assert import_contracts(nayoro, write_csv(header, rows), actor="test").inserted == 3
    db.session.commit()
    assert [c.billing_cycle for c in contracts_of(nayoro)] == ["bimonthly", None, "monthly"]
    bad = import_contracts(nayoro, write_csv(header, [contract_row("01234567891", billing_cycle="quarterly")]))
    assert [(e.line, e.column) for e in bad.errors] == [(2, "billing_cycle")]
    # A file without the column: the city's cycle again.
    assert import_contracts(nayoro, contracts_csv([contract_row("01234567891")])).status == "ok"
    db.session.commit()
    assert contracts_of(nayoro)[0].billing_cycle is None


def test_the_convenience_store_barcode_must_match_the_bill(nayoro, contract, bills_csv):
    """The 44-digit 収納代行 data: length, AI 91, check digit, and the amount and due date
    encoded in it are the bill's (bill_row: 5,000 yen due 2026-09-30)."""
    good = slip.make_barcode("912345", "0001234567891202609", dt.date(2026, 9, 30), 5000)
    wrong_amount = slip.make_barcode("912345", "0001234567891202610", dt.date(2026, 10, 30), 5001)
    wrong_due = slip.make_barcode("912345", "0001234567891202611", dt.date(2026, 12, 1), 5000)
    rows = [
        bill_row(NAYORO_NO, "2026-09", payment_barcode=f"{good[:22]} {good[22:]}"),  # a space as printed
        bill_row(NAYORO_NO, "2026-10", due_date="2026-10-31", payment_barcode=wrong_amount),
        bill_row(NAYORO_NO, "2026-11", payment_barcode=wrong_due),
        bill_row(NAYORO_NO, "2026-12", payment_barcode=good[:-1] + str((int(good[-1]) + 1) % 10)),
        bill_row(NAYORO_NO, "2027-01", payment_barcode=good[:30]),
    ]
    result = run(nayoro, bills_csv(rows, header=HEADER))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [(3, "payment_barcode")] * 2 + [
        (4, "payment_barcode"), (5, "payment_barcode"), (6, "payment_barcode")]
    messages = [e.message for e in result.errors]
    assert "金額 5001 が請求金額 5000 と一致しません" in messages[0]
    assert "支払期限 2026-10-30 が納期限 2026-10-31 と一致しません" in messages[1]
    assert "支払期限 2026-12-01 が納期限 2026-09-30 と一致しません" in messages[2]
    assert "チェックデジットが違います" in messages[3] and "44桁の数字" in messages[4]
    assert run(nayoro, bills_csv(rows[:1], header=HEADER)).inserted == 1
    assert bills_of(nayoro)[0].payment_barcode == good
