"""Bills import, 適格請求書 columns: the holder as billed and the tax per rate, or the tax checked
against the city's rounding rule; a breakdown that does not add up rejects the file by line."""
from __future__ import annotations

import dataclasses

import pytest

from tests.imports.helpers import NAYORO_NO, bill_row, bills_of
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS, INVOICE_COLUMNS

pytestmark = pytest.mark.usefixtures("app_ctx")
HEADER = (*BILL_COLUMNS, *INVOICE_COLUMNS)


@pytest.fixture
def contract(nayoro, make_contract):
    return make_contract(nayoro, customer_number=NAYORO_NO)


def run(tenant, path):
    result = import_bills(tenant, path, actor="test")
    db.session.commit()
    return result


def rounding(tenant, rule: str):
    return dataclasses.replace(tenant, settings={**tenant.settings, "invoice": {**tenant.settings["invoice"],
                                                                                 "rounding": rule}})


def test_without_a_breakdown_the_tax_follows_the_city_rounding(nayoro, contract, bills_csv):
    # 5,000 yen contains 454.5 yen of tax: 454 rounded down, 455 rounded half up.
    assert run(nayoro, bills_csv([bill_row(NAYORO_NO, tax="454")])).status == "ok"
    result = run(rounding(nayoro, "half_up"), bills_csv([bill_row(NAYORO_NO, "2026-10", tax="454")]))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [(2, "tax")]
    assert "四捨五入で 455" in result.errors[0].message and "taxable_10" in result.errors[0].message
    assert run(rounding(nayoro, "half_up"), bills_csv([bill_row(NAYORO_NO, "2026-10", tax="455")])).status == "ok"
    stored = bills_of(nayoro)
    assert [(b.holder_name, b.taxable_10, b.tax_10, b.taxable_8, b.tax_8) for b in stored] == [(None,) * 5] * 2


def test_the_breakdown_and_holder_are_stored_and_a_repeat_changes_nothing(nayoro, contract, bills_csv):
    row = bill_row(NAYORO_NO, total="5000", tax="440", holder_name="  株式会社　名寄   製作所 ",
                   taxable_10="4000", tax_10="363", taxable_8="1000", tax_8="77")
    path = bills_csv([row], header=HEADER)
    assert (run(nayoro, path).inserted, run(nayoro, path).unchanged) == (1, 1)
    (bill,) = bills_of(nayoro)
    assert (bill.holder_name, bill.taxable_10, bill.tax_10, bill.taxable_8, bill.tax_8) == (
        "株式会社 名寄 製作所", 4000, 363, 1000, 77)


def test_only_some_invoice_columns(nayoro, contract, bills_csv):
    header = (*BILL_COLUMNS, "taxable_10", "tax_10")
    assert run(nayoro, bills_csv([bill_row(NAYORO_NO, taxable_10="5000", tax_10="454")], header=header)).ok
    (bill,) = bills_of(nayoro)
    assert (bill.holder_name, bill.taxable_10, bill.tax_10, bill.taxable_8, bill.tax_8) == (None, 5000, 454, 0, 0)


@pytest.mark.parametrize("fields, column, message", [
    ({"taxable_10": "4000", "tax_10": "454"}, "taxable_10", "(4000 + 0 = 4000) が合計 5000 と一致しません"),
    ({"taxable_10": "5000", "tax_10": "400"}, "tax_10", "(400 + 0 = 400) が消費税額 454 と一致しません"),
    ({"taxable_10": "4000", "tax_10": "400", "taxable_8": "1000", "tax_8": "100"}, "tax_10", "(400 + 100 = 500)"),
    ({"taxable_10": "5000", "tax_10": "-1"}, "tax_10", "0以上の整数"),
    ({"taxable_10": "20", "tax_10": "454", "taxable_8": "4980"}, "tax_10", "対象額 20 を超えて"),
    ({"holder_name": "名" * 101}, "holder_name", "100文字以内"),
])
def test_a_breakdown_that_does_not_add_up_rejects_the_file(nayoro, contract, bills_csv, fields, column, message):
    rows = [bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "2026-09", **fields)]
    result = run(nayoro, bills_csv(rows, header=HEADER))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [(3, column)], result.errors
    assert message in result.errors[0].message
    assert bills_of(nayoro) == []
