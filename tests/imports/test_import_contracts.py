"""Contracts import: normalisation, validation with line numbers, upsert per city."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine

from tests.imports.helpers import (
    KANAZAWA_NO,
    NAYORO_NO,
    batches_of,
    contract_row,
    contracts_of,
    snapshot,
)
from waterportal.extensions import db
from waterportal.imports.services import import_contracts

NOON = dt.datetime(2026, 10, 5, 3, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.usefixtures("app_ctx")


def run(tenant, path, **kwargs):
    result = import_contracts(tenant, path, actor="staff:1", **kwargs)
    db.session.commit()
    return result


def test_inserts_normalised_contracts_and_records_the_batch(nayoro, contracts_csv):
    rows = [
        contract_row(NAYORO_NO, holder_name="  名寄　花子 ", holder_name_kana="なよろ はなこ",
                     phone="０１６５４－３－２１１１", meter_number="Ｍ１２３", meter_diameter_mm="２０"),
        contract_row("012-3456-7891", holder_name_kana="ﾐｽﾞﾉ ｶｽﾞｵ", phone="090-1234-5678"),
    ]
    path = contracts_csv(rows, name="keiyaku.csv")
    with time_machine.travel(NOON, tick=False):
        result = run(nayoro, path)
    assert (result.status, result.inserted, result.updated, result.unchanged, result.encoding) == (
        "ok", 2, 0, 0, "utf-8")
    first, second = contracts_of(nayoro)
    assert (first.customer_number, first.holder_name, first.holder_name_kana, first.phone, first.meter_number,
            first.meter_diameter_mm) == (NAYORO_NO, "名寄 花子", "ナヨロハナコ", "0165432111", "M123", 20)
    assert (second.customer_number, second.holder_name_kana, second.phone) == (
        "01234567891", "ミズノカズオ", "09012345678")
    assert first.created_at == first.data_updated_at == NOON.replace(tzinfo=None)
    [batch] = batches_of(nayoro)
    assert (batch.id, batch.kind, batch.filename, batch.actor, batch.status, batch.rows, batch.inserted) == (
        result.batch_id, "contracts", "keiyaku.csv", "staff:1", "ok", 2, 2)
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert batch.started_at == batch.finished_at == NOON.replace(tzinfo=None)
    assert batch.errors == []


@pytest.mark.parametrize(
    "fields, column, reason",
    [
        ({"customer_number": "123456789"}, "customer_number", "11桁の数字"),
        ({"holder_name": " "}, "holder_name", "必須です"),
        ({"holder_name_kana": "水道太郎"}, "holder_name_kana", "カタカナ"),
        ({"phone": "12345"}, "phone", "10桁または11桁"),
        ({"phone": "0165-43-2111 内線2"}, "phone", "10桁または11桁"),
        ({"address": "x" * 301}, "address", "300文字以内"),
        ({"meter_number": ""}, "meter_number", "必須です"),
        ({"meter_diameter_mm": "13mm"}, "meter_diameter_mm", "1から999の整数"),
        ({"meter_diameter_mm": "0"}, "meter_diameter_mm", "1から999の整数"),
        ({"meter_diameter_mm": ""}, "meter_diameter_mm", "必須です"),
        ({"phone": "－"}, "phone", "必須です"),
        ({"customer_number": ""}, "customer_number", "必須です"),
    ],
)
def test_each_rule_names_line_and_column(nayoro, contracts_csv, fields, column, reason):
    rows = [contract_row("01234567891"), contract_row(NAYORO_NO, **fields)]
    result = run(nayoro, contracts_csv(rows))
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors] == [(3, column)]
    assert reason in result.errors[0].message
    assert contracts_of(nayoro) == []


def test_duplicate_customer_number_in_the_file(nayoro, contracts_csv):
    rows = [contract_row(NAYORO_NO), contract_row("01234567891"), contract_row("０１２３４５６７８９０")]
    result = run(nayoro, contracts_csv(rows))
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (4, "customer_number", f"お客様番号 {NAYORO_NO} が 2 行目と重複しています")]


def test_reimport_is_unchanged_and_a_correction_updates_in_place(nayoro, contracts_csv):
    rows = [contract_row(NAYORO_NO), contract_row("01234567891")]
    with time_machine.travel(NOON, tick=False):
        run(nayoro, contracts_csv(rows))
    before = snapshot(nayoro)
    later = NOON + dt.timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        again = run(nayoro, contracts_csv(rows))
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        assert snapshot(nayoro) == before
        rows[1]["address"] = "風連町西町200番地"
        fixed = run(nayoro, contracts_csv(rows))
    assert (fixed.inserted, fixed.updated, fixed.unchanged) == (0, 1, 1)
    old = {c.customer_number: c for c in contracts_of(nayoro)}
    changed = old["01234567891"]
    assert changed.address == "風連町西町200番地"
    assert changed.id == before[1][0]
    assert (changed.created_at, changed.data_updated_at) == (NOON.replace(tzinfo=None), later.replace(tzinfo=None))
    assert old[NAYORO_NO].data_updated_at == NOON.replace(tzinfo=None)


def test_same_number_in_two_cities_is_two_contracts(nayoro, kanazawa, make_contract, contracts_csv):
    theirs = make_contract(kanazawa, customer_number=NAYORO_NO, holder_name="金沢 一郎")
    result = run(nayoro, contracts_csv([contract_row(NAYORO_NO, holder_name="名寄 太郎")]))
    assert (result.inserted, result.updated) == (1, 0)
    [kanazawa_contract] = contracts_of(kanazawa)
    assert (kanazawa_contract.id, kanazawa_contract.holder_name) == (theirs, "金沢 一郎")
    assert [c.holder_name for c in contracts_of(nayoro)] == ["名寄 太郎"]
    # Kanazawa numbers have 10 digits; the rule follows the city's settings.
    result = run(kanazawa, contracts_csv([contract_row(KANAZAWA_NO), contract_row(NAYORO_NO)]))
    assert [(e.line, e.column) for e in result.errors] == [(3, "customer_number")]
    assert "10桁" in result.errors[0].message
    assert run(kanazawa, contracts_csv([contract_row(KANAZAWA_NO)])).inserted == 1
    assert batches_of(nayoro)[0].kind == "contracts" and len(batches_of(kanazawa)) == 2
