"""Garbage in, a clean rejection out: every import kind, fed files no billing system should
write, answers with line-numbered Japanese reasons, writes nothing and never raises."""
from __future__ import annotations

import pytest

from tests.imports.helpers import NAYORO_NO, batches_of, bill_row, contract_row, csv_text, snapshot
from waterportal.extensions import db
from waterportal.imports.documents import DOCUMENT_COLUMNS, import_documents
from waterportal.imports.reading import SHOWN
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS, INT_MAX

pytestmark = pytest.mark.usefixtures("app_ctx")

KINDS = {
    "contracts": (CONTRACT_COLUMNS, contract_row("01234567891")),
    "bills": (BILL_COLUMNS, bill_row(NAYORO_NO)),
    "documents": (DOCUMENT_COLUMNS, {"customer_number": NAYORO_NO, "title": "使用水量のお知らせ",
                                     "issued_on": "2026-09-01", "file": "notice.pdf"}),
}


def _with(kind: str, **fields) -> bytes:
    header, row = KINDS[kind]
    return csv_text(header, [{**row, **fields}]).encode()


def _header(kind: str) -> bytes:
    return (",".join(KINDS[kind][0]) + "\r\n").encode()


def _second_field(kind: str) -> str:
    return KINDS[kind][0][1]


# name -> (file for a kind, the line the first reason must name)
GARBAGE = {
    "binary": (lambda kind: bytes(range(256)) * 8, 1),
    "nul_bytes_only": (lambda kind: b"\x00" * 64, 1),
    "nul_inside_a_field": (lambda kind: _with(kind, **{_second_field(kind): "水道\x00太郎"}), 2),
    "utf16_with_bom": (lambda kind: _with(kind).decode().encode("utf-16"), 1),
    "utf16_without_bom": (lambda kind: _with(kind).decode().encode("utf-16-le"), 1),
    "10000_columns_in_a_row": (lambda kind: _header(kind) + b",".join([b"x"] * 10_000) + b"\r\n", 2),
    "10000_columns_in_the_header": (lambda kind: ",".join(f"c{n}" for n in range(10_000)).encode(), 1),
    "field_past_the_csv_limit": (lambda kind: _with(kind, **{_second_field(kind): "あ" * 1_000_000}), 2),
    "100000_digit_field_in_every_column": (
        lambda kind: csv_text(KINDS[kind][0], [dict.fromkeys(KINDS[kind][0], "9" * 100_000)]).encode(), 2),
}


def run(tenant, kind: str, data: bytes, folder):
    if kind == "documents":
        (folder / "documents.csv").write_bytes(data)
        (folder / "notice.pdf").write_bytes(b"%PDF-1.4\n%garbage test\n")
        return import_documents(tenant, folder, actor="test")
    service = import_contracts if kind == "contracts" else import_bills
    return service(tenant, data, filename="garbage\x00.csv", actor="test")


@pytest.fixture
def fed(nayoro, make_contract, tmp_path):
    """``fed(kind, data)``: import ``data`` as ``kind`` in Nayoro, commit, return the result."""
    make_contract(nayoro, customer_number=NAYORO_NO)
    before = snapshot(nayoro)

    def feed(kind: str, data: bytes):
        result = run(nayoro, kind, data, tmp_path)
        db.session.commit()  # PostgreSQL refuses NUL in text: the batch row must still store
        if not result.ok:
            assert snapshot(nayoro) == before, "a rejected file changed stored data"
        return result

    return feed


@pytest.mark.parametrize("garbage", GARBAGE, ids=list(GARBAGE))
@pytest.mark.parametrize("kind", KINDS)
def test_garbage_is_rejected_with_line_numbered_reasons(fed, nayoro, kind, garbage):
    make, line = GARBAGE[garbage]
    result = fed(kind, make(kind))
    assert result.status == "rejected"
    assert result.errors and result.errors[0].line == line
    for error in result.errors:
        assert error.line >= 1 and error.message
        assert "\x00" not in error.column + error.message
        assert len(error.column) <= SHOWN + 1 and len(error.message) < 200  # values are quoted cut short
        assert any("\u3040" <= ch <= "\u30ff" for ch in error.message), error.message  # said in Japanese
    batch = batches_of(nayoro)[-1]
    assert (batch.status, batch.kind) == ("rejected", kind)
    assert batch.errors[0][0] == line


@pytest.mark.parametrize("kind", KINDS)
def test_header_only_file_imports_nothing(fed, kind):
    # A header and no rows is a month with nothing to load, not garbage: ok, nothing written.
    result = fed(kind, _header(kind))
    assert (result.status, result.rows, result.inserted, result.updated) == ("ok", 0, 0, 0)


def test_nul_reason_names_the_line_and_the_cure(fed):
    result = fed("contracts", _with("contracts", holder_name="水道\x00太郎"))
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (2, "-", "NUL 文字が含まれています (UTF-8 または Shift_JIS の CSV で保存してください)")]


def test_over_long_field_is_said_in_japanese(fed):
    [error] = fed("bills", _with("bills", period_start="x" * 200_000)).errors
    assert (error.line, error.message) == (2, "CSV として読めません (1つの項目が長すぎます (131,072文字まで))")


def test_long_values_are_quoted_cut_short(fed):
    [error] = fed("contracts", _with("contracts", phone="1" * 5000)).errors
    assert error.message == f"電話番号は0から始まる10桁または11桁の数字で入力してください: '{'1' * SHOWN}…' (5,000文字)"


AMOUNTS = ("previous_reading", "current_reading", "usage_m3", "water_charge", "sewer_charge", "tax", "total")


@pytest.mark.parametrize("column", AMOUNTS)
def test_amount_past_the_database_integer_is_refused(fed, column):
    big = str(INT_MAX + 1)
    result = fed("bills", _with("bills", **{column: big}))
    assert (2, column, f"{INT_MAX}以下の整数で入力してください: '{big}'") in result.errors


def test_consistent_row_past_the_database_integer_is_refused(fed):
    # Every rule holds (usage = current - previous), so only the size refuses it; PostgreSQL's
    # INTEGER would otherwise have failed the whole import with a database error.
    big = str(INT_MAX + 1)
    result = fed("bills", _with("bills", previous_reading="0", current_reading=big, usage_m3=big))
    assert [(e.line, e.column) for e in result.errors] == [(2, "current_reading"), (2, "usage_m3")]


def test_largest_database_integer_is_accepted(fed):
    top = str(INT_MAX)
    result = fed("bills", _with("bills", previous_reading="0", current_reading=top, usage_m3=top,
                                water_charge=str(INT_MAX - 2000), sewer_charge="2000", total=top, tax=str(INT_MAX * 10 // 110)))
    assert (result.status, result.inserted) == ("ok", 1)
