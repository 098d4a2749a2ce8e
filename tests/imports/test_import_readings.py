"""Daily readings import (issue 14 §6, ``flask import readings``): the bills' rules for a smart
meter's daily use: line-numbered errors, all or nothing, idempotent, UTF-8 or Shift_JIS, per city."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.imports.helpers import KANAZAWA_NO, NAYORO_NO, batches_of
from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS, import_readings, litres
from waterportal.mail.models import MailJob
from waterportal.readings.models import MeterReading
from waterportal.tenancy.context import tenant_context

pytestmark = pytest.mark.usefixtures("app_ctx")
OTHER_NO = "01234567891"


@pytest.fixture
def readings_csv(write_csv):
    return lambda rows, header=READING_COLUMNS, **kw: write_csv(list(header), rows, **kw)


@pytest.fixture
def contracts(nayoro, kanazawa, make_contract):
    return (make_contract(nayoro, customer_number=NAYORO_NO), make_contract(nayoro, customer_number=OTHER_NO),
            make_contract(kanazawa, customer_number=KANAZAWA_NO))


def row(number: str = NAYORO_NO, day: str = "2026-11-17", usage: str = "0.235") -> dict:
    return {"customer_number": number, "reading_date": day, "usage_m3": usage}


def run(tenant, path):
    result = import_readings(tenant, path, actor="test")
    db.session.commit()
    return result


def stored(tenant) -> list[tuple]:
    with tenant_context(tenant):
        return [tuple(r) for r in db.session.execute(
            select(MeterReading.id, MeterReading.contract_id, MeterReading.reading_date, MeterReading.usage_litres)
            .order_by(MeterReading.contract_id, MeterReading.reading_date))]


@pytest.mark.parametrize(("raw", "expected"), [
    ("0", 0), ("0.235", 235), ("1.5", 1500), ("12.05", 12050), ("００.２", 200), ("99999.999", 99_999_999),
    ("007.1", 7100), ("-1", None), ("0.2345", None), ("1,000", None), ("", None), ("100000", None), ("1e3", None),
])
def test_usage_in_m3_is_stored_in_litres(raw, expected):
    assert litres(raw) == expected


def test_a_clean_file_lands_and_the_same_file_again_changes_nothing(nayoro, kanazawa, contracts, readings_csv):
    nayoro_id, other_id, _kanazawa_id = contracts
    path = readings_csv([row(day="2026-11-16", usage="0.2"), row(day="2026-11-17", usage="0.235"),
                         row(OTHER_NO, "2026-11-18", "0"), row(day="２０２６－１１－１５", usage="１.０")])
    first = run(nayoro, path)
    assert (first.status, first.inserted, first.updated, first.unchanged) == ("ok", 4, 0, 0)
    before = stored(nayoro)
    assert [(c, d, u) for _id, c, d, u in before] == [
        (nayoro_id, dt.date(2026, 11, 15), 1000), (nayoro_id, dt.date(2026, 11, 16), 200),
        (nayoro_id, dt.date(2026, 11, 17), 235), (other_id, dt.date(2026, 11, 18), 0)]
    again = run(nayoro, path)
    assert (again.status, again.inserted, again.updated, again.unchanged) == ("ok", 0, 0, 4)
    assert stored(nayoro) == before  # same ids, same values
    corrected = run(nayoro, readings_csv([row(day="2026-11-17", usage="0.240")]))
    assert (corrected.inserted, corrected.updated, corrected.unchanged) == (0, 1, 0)
    assert [u for _id, _c, d, u in stored(nayoro) if d == dt.date(2026, 11, 17)] == [240]
    assert stored(kanazawa) == []
    assert [b.kind for b in batches_of(nayoro)] == ["readings"] * 3


def test_every_problem_is_named_by_line_and_nothing_lands(nayoro, kanazawa, contracts, readings_csv, clock):
    # The suite's clock: 2026-11-18 10:00 in Japan, so the 18th is today and the 19th the future.
    rows = [
        row(day="2026-11-16"),
        row(KANAZAWA_NO, "2026-11-16"),  # Kanazawa's contract: not one of Nayoro's (and 10 digits)
        row("99999999999", "2026-11-16"),  # unknown
        row(day="2026-11-19"),  # the future in Nayoro
        row(day="2026/11/16", usage="-0.1"),
        row(day="2026-02-30", usage="0.2345"),
        row(day="", usage=""),
        row(OTHER_NO, "2026-11-18", "123456"),
        row(day="2026-11-16", usage="0.3"),  # the first line's key again
    ]
    result = run(nayoro, readings_csv(rows))
    assert result.status == "rejected" and result.inserted == 0
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "customer_number"), (4, "customer_number"), (5, "reading_date"), (6, "reading_date"), (6, "usage_m3"),
        (7, "reading_date"), (7, "usage_m3"), (8, "reading_date"), (8, "usage_m3"), (9, "usage_m3"),
        (10, "customer_number"),
    ]
    messages = {(e.line, e.column): e.message for e in result.errors}
    assert messages[(4, "customer_number")] == "お客様番号 99999999999 の契約が登録されていません"
    assert messages[(5, "reading_date")] == "2026-11-19 は未来の日付です (本日は 2026-11-18)"
    assert messages[(9, "usage_m3")].startswith("使用水量は1日 99999.999 m³ 以下")
    assert messages[(10, "customer_number")] == f"お客様番号 {NAYORO_NO} の 2026-11-16 分が 2 行目と重複しています"
    assert stored(nayoro) == [] and result.rejected == 8
    assert batches_of(nayoro)[-1].status == "rejected"
    with tenant_context(nayoro):
        assert db.session.scalars(select(MailJob.kind)).all() == []  # no 見守り check for a rejected file


def test_the_last_line_rejects_a_file_of_many_chunks(app, nayoro, contracts, readings_csv):
    app.config["IMPORT_CHUNK_ROWS"] = 7
    start = dt.date(2026, 8, 1)
    rows = [row(day=(start + dt.timedelta(days=n)).isoformat(), usage=f"0.{n:03d}") for n in range(100)]
    rows.append(row(day="2026-11-30"))
    result = run(nayoro, readings_csv(rows))
    assert [(e.line, e.column) for e in result.errors] == [(102, "reading_date")]
    assert stored(nayoro) == []
    result = run(nayoro, readings_csv(rows[:-1]))
    assert result.inserted == 100 and len(stored(nayoro)) == 100


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_encodings(nayoro, contracts, readings_csv, encoding):
    result = run(nayoro, readings_csv([row(), row(day="２０２６－１１－１６")], encoding=encoding))
    assert (result.status, result.inserted, result.encoding) == ("ok", 2, encoding)


def test_the_header_must_name_the_columns(nayoro, contracts, write_csv):
    result = run(nayoro, write_csv(["customer_number", "date", "usage_m3"], [{}]))
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (1, "date", "不明な列です"), (1, "reading_date", "必須の列がありません")]


def test_a_clean_file_records_the_watch_check(nayoro, contracts, readings_csv):
    run(nayoro, readings_csv([row()]))
    with tenant_context(nayoro):
        assert db.session.scalars(select(MailJob.kind)).all() == ["watch"]


def test_the_command(nayoro, contracts, readings_csv, runner):
    path = readings_csv([row()])
    out = runner.invoke(args=["import", "readings", "--tenant", "nayoro", str(path)])
    assert out.exit_code == 0, out.output
    assert "nayoro readings ok: inserted=1 updated=0 unchanged=0 rejected=0" in out.output
    bad = runner.invoke(args=["import", "readings", "--tenant", "nayoro", str(readings_csv([row(day="2026-11-30")]))])
    assert bad.exit_code == 1 and "line 2: reading_date: 2026-11-30 は未来の日付です" in bad.output
