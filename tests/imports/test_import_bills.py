"""Bills import: every rule with its line number, all-or-nothing, idempotent, per city."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.imports.helpers import (
    KANAZAWA_NO,
    NAYORO_NO,
    batches_of,
    bill_row,
    bills_of,
    contracts_of,
    snapshot,
)
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS

NOON = dt.datetime(2026, 10, 5, 3, 0, tzinfo=dt.UTC)  # 12:00 in Japan
OTHER = "01234567891"

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture
def contracts(nayoro, make_contract):
    """Two Nayoro contracts; their ids by customer number."""
    return {number: make_contract(nayoro, customer_number=number) for number in (NAYORO_NO, OTHER)}


def run(tenant, path, **kwargs):
    result = import_bills(tenant, path, actor="test", **kwargs)
    db.session.commit()
    return result


def test_inserts_bills_and_stamps_the_contract(nayoro, contracts, bills_csv):
    path = bills_csv([bill_row(NAYORO_NO, "2026-08", paid_on="2026-08-25"), bill_row(NAYORO_NO, "2026-09"),
                      bill_row(OTHER, "2026-09", water_charge="0", sewer_charge="0", tax="0", total="0",
                               previous_reading="7", current_reading="7", usage_m3="0")])
    with time_machine.travel(NOON, tick=False):
        result = run(nayoro, path)
    assert (result.status, result.inserted, result.updated, result.unchanged, result.rejected) == ("ok", 3, 0, 0, 0)
    assert result.errors == []
    bills = bills_of(nayoro)
    assert [(b.contract_id, b.billing_month) for b in bills] == [
        (contracts[NAYORO_NO], "2026-08"), (contracts[NAYORO_NO], "2026-09"), (contracts[OTHER], "2026-09")]
    first = bills[0]
    assert (first.period_start, first.period_end, first.reading_date, first.due_date, first.paid_on) == (
        dt.date(2026, 8, 1), dt.date(2026, 8, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 8, 25))
    assert (first.previous_reading, first.current_reading, first.usage_m3, first.meter_exchanged) == (100, 120, 20, False)
    assert (first.water_charge, first.sewer_charge, first.tax, first.total) == (3000, 2000, 454, 5000)
    assert bills[1].paid_on is None
    assert first.updated_at == NOON.replace(tzinfo=None)
    assert {c.data_updated_at for c in contracts_of(nayoro)} == {NOON.replace(tzinfo=None)}


def test_full_width_digits_and_spaces_are_accepted(nayoro, contracts, bills_csv):
    row = bill_row("０１２３４５６７８９０", "２０２６－０９", period_start=" 2026-08-01 ", total="５０００",
                   water_charge=" 3000")
    result = run(nayoro, bills_csv([row]))
    assert result.ok, result.errors
    assert [(b.billing_month, b.period_start, b.total) for b in bills_of(nayoro)] == [
        ("2026-09", dt.date(2026, 8, 1), 5000)]


@pytest.mark.parametrize(
    "fields, column, reason",
    [
        ({"period_end": "2026/08/31"}, "period_end", "YYYY-MM-DD"),
        ({"due_date": "2026-09-31"}, "due_date", "YYYY-MM-DD"),
        ({"reading_date": "20260831"}, "reading_date", "YYYY-MM-DD"),
        ({"paid_on": "昨日"}, "paid_on", "YYYY-MM-DD"),
        ({"period_start": ""}, "period_start", "必須です"),
        ({"billing_month": "2026-13"}, "billing_month", "YYYY-MM"),
        ({"billing_month": "202609"}, "billing_month", "YYYY-MM"),
        ({"water_charge": "3,000"}, "water_charge", "0以上の整数"),
        ({"sewer_charge": "2000.0"}, "sewer_charge", "0以上の整数"),
        ({"tax": "-1"}, "tax", "0以上の整数"),
        ({"current_reading": ""}, "current_reading", "必須です"),
        ({"customer_number": "1234567890"}, "customer_number", "11桁の数字"),
        ({"customer_number": "0123456789A"}, "customer_number", "11桁の数字"),
        ({"customer_number": "09999999999"}, "customer_number", "契約が登録されていません"),
        ({"usage_m3": "25"}, "usage_m3", "(120 − 100 = 20) と一致しません"),
        ({"previous_reading": "130", "usage_m3": "10"}, "usage_m3", "meter_exchanged を 1 に"),
        ({"total": "5100", "tax": "463"}, "total", "(3000 + 2000 = 5000) と一致しません"),
        ({"tax": "5001", "total": "5000"}, "tax", "合計 5000 以下"),
        ({"period_start": "2026-09-01"}, "period_end", "開始日 2026-09-01 より前"),
    ],
)
def test_each_rule_names_line_and_column(nayoro, contracts, bills_csv, fields, column, reason):
    rows = [bill_row(NAYORO_NO, "2026-07"), bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "2026-09", **fields)]
    result = run(nayoro, bills_csv(rows))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [(4, column)]
    assert reason in result.errors[0].message
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (0, 0, 0, 1)
    assert bills_of(nayoro) == []  # the two good rows were not written either


def test_meter_exchange_allows_usage_that_is_not_the_difference(nayoro, contracts, bills_csv):
    header = (*BILL_COLUMNS, "meter_exchanged")
    rows = [bill_row(NAYORO_NO, "2026-09", previous_reading="9850", current_reading="12", usage_m3="27",
                     meter_exchanged="1"),
            bill_row(OTHER, "2026-09", meter_exchanged="0"),
            bill_row(NAYORO_NO, "2026-08", meter_exchanged="")]
    result = run(nayoro, bills_csv(rows, header=header))
    assert result.ok, result.errors
    assert [(b.billing_month, b.usage_m3, b.meter_exchanged) for b in bills_of(nayoro)] == [
        ("2026-08", 20, False), ("2026-09", 27, True), ("2026-09", 20, False)]


def test_meter_exchanged_must_be_0_or_1(nayoro, contracts, bills_csv):
    rows = [bill_row(NAYORO_NO, meter_exchanged="yes")]
    result = run(nayoro, bills_csv(rows, header=(*BILL_COLUMNS, "meter_exchanged")))
    assert [tuple(e)[:2] for e in result.errors] == [(2, "meter_exchanged")]


def test_duplicate_key_in_the_file_names_both_lines(nayoro, contracts, bills_csv):
    rows = [bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "2026-09"), bill_row(OTHER, "2026-09"),
            bill_row(NAYORO_NO, "2026-09", total="5000")]
    result = run(nayoro, bills_csv(rows))
    assert [(e.line, e.column) for e in result.errors] == [(5, "customer_number")]
    assert "2026-09 分が 3 行目と重複" in result.errors[0].message
    assert bills_of(nayoro) == []


def test_every_error_of_the_file_comes_back_in_line_order(nayoro, contracts, bills_csv):
    rows = [bill_row(NAYORO_NO, "2026-07", tax="x", total="1"), bill_row(NAYORO_NO, "2026-08"),
            bill_row("0999", "2026-13")]
    result = run(nayoro, bills_csv(rows))
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "tax"), (2, "total"), (4, "customer_number"), (4, "billing_month")]
    assert result.rejected == 2
    assert str(result.errors[0]) == "line 2: tax: 0以上の整数で入力してください: 'x'"


def test_rejected_file_records_batch_and_writes_nothing(nayoro, contracts, bills_csv):
    path = bills_csv([bill_row(NAYORO_NO), bill_row(OTHER, usage_m3="99")], name="2026-09.csv")
    before = snapshot(nayoro)
    result = run(nayoro, path)
    assert snapshot(nayoro) == before
    [batch] = batches_of(nayoro)
    assert batch.id == result.batch_id
    assert (batch.kind, batch.filename, batch.status, batch.actor, batch.encoding) == (
        "bills", "2026-09.csv", "rejected", "test", "utf-8")
    assert (batch.rows, batch.inserted, batch.rejected) == (2, 0, 1)
    assert batch.errors == [[3, "usage_m3", result.errors[0].message]]


def test_reimport_changes_nothing_and_a_correction_updates_in_place(nayoro, contracts, bills_csv):
    rows = [bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "2026-09"), bill_row(OTHER, "2026-09")]
    with time_machine.travel(NOON, tick=False):
        run(nayoro, bills_csv(rows))
    before = snapshot(nayoro)
    ids = {b.billing_month + str(b.contract_id): b.id for b in bills_of(nayoro)}
    later = NOON + dt.timedelta(days=1)
    with time_machine.travel(later, tick=False):
        again = run(nayoro, bills_csv(rows))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert snapshot(nayoro) == before  # not even a timestamp moved
    rows[1]["paid_on"] = "2026-09-28"
    with time_machine.travel(later, tick=False):
        fixed = run(nayoro, bills_csv(rows))
    assert (fixed.inserted, fixed.updated, fixed.unchanged) == (0, 1, 2)
    bills = {b.billing_month + str(b.contract_id): b for b in bills_of(nayoro)}
    assert {key: b.id for key, b in bills.items()} == ids
    changed = bills["2026-09" + str(contracts[NAYORO_NO])]
    assert (changed.paid_on, changed.updated_at) == (dt.date(2026, 9, 28), later.replace(tzinfo=None))
    stamps = {c.id: c.data_updated_at for c in contracts_of(nayoro)}
    assert stamps == {contracts[NAYORO_NO]: later.replace(tzinfo=None), contracts[OTHER]: NOON.replace(tzinfo=None)}
    assert [b.status for b in batches_of(nayoro)] == ["ok", "ok", "ok"]


def test_cities_share_a_customer_number_but_never_rows(nayoro, kanazawa, make_contract, bills_csv):
    mine = make_contract(nayoro, customer_number=NAYORO_NO)
    theirs = make_contract(kanazawa, customer_number=NAYORO_NO)  # same number in the other city
    make_contract(kanazawa, customer_number=KANAZAWA_NO)
    assert run(nayoro, bills_csv([bill_row(NAYORO_NO)])).ok
    assert [b.contract_id for b in bills_of(nayoro)] == [mine]
    assert bills_of(kanazawa) == []
    # Kanazawa's own import sees only Kanazawa's contracts (10 digits there).
    result = run(kanazawa, bills_csv([bill_row(KANAZAWA_NO, total="4000", sewer_charge="1000", tax="363"), bill_row(NAYORO_NO)]))
    assert [(e.line, e.column) for e in result.errors] == [(3, "customer_number")]
    assert run(kanazawa, bills_csv([bill_row(KANAZAWA_NO)])).ok
    assert [b.contract_id for b in bills_of(nayoro)] == [mine]
    assert len(bills_of(kanazawa)) == 1 and bills_of(kanazawa)[0].contract_id != theirs
    assert [b.kind for b in batches_of(nayoro)] == ["bills"]


def test_customer_of_the_other_city_is_unknown(nayoro, kanazawa, make_contract, bills_csv):
    make_contract(kanazawa, customer_number=NAYORO_NO)
    result = run(nayoro, bills_csv([bill_row(NAYORO_NO)]))
    assert [(e.line, e.column) for e in result.errors] == [(2, "customer_number")]
    assert "契約が登録されていません" in result.errors[0].message


def test_progress_reports_validation_then_writing(nayoro, contracts, bills_csv):
    calls = []
    rows = [bill_row(NAYORO_NO, f"2025-{m:02d}") for m in range(1, 13)]
    run(nayoro, bills_csv(rows), progress=lambda *args: calls.append(args))
    assert calls == [("validate", 12, 12), ("write", 12, 12)]
