"""File-level rules: encodings, header, physical line numbers, empty files."""
from __future__ import annotations

import pytest

from tests.imports.helpers import (
    NAYORO_NO,
    batches_of,
    bill_row,
    bills_of,
    contract_row,
    contracts_of,
    csv_text,
)
from waterportal.extensions import db
from waterportal.imports import services
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS

pytestmark = pytest.mark.usefixtures("app_ctx")

SJIS_ROW = contract_row(NAYORO_NO, holder_name="髙橋 ①郎", holder_name_kana="タカハシ イチロウ",
                        address="北海道名寄市大通南1丁目1番地 ㈱名寄")


def contracts(tenant, data, **kwargs):
    result = import_contracts(tenant, data, filename="contracts.csv", actor="test", **kwargs)
    db.session.commit()
    return result


def test_shift_jis_file_is_detected_as_cp932(nayoro, contracts_csv):
    # CP932 (Windows Shift_JIS) has 髙, ① and ㈱, which plain Shift_JIS lacks.
    path = contracts_csv([SJIS_ROW], encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    result = contracts(nayoro, path)
    assert (result.status, result.encoding, result.inserted) == ("ok", "cp932", 1)
    [contract] = contracts_of(nayoro)
    assert (contract.holder_name, contract.address) == ("髙橋 ①郎", "北海道名寄市大通南1丁目1番地 ㈱名寄")
    assert batches_of(nayoro)[0].encoding == "cp932"


def test_utf8_with_bom_is_read_and_reported(nayoro, contracts_csv):
    path = contracts_csv([SJIS_ROW], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = contracts(nayoro, path)
    assert (result.status, result.encoding) == ("ok", "utf-8-sig")  # BOM not glued to customer_number
    assert contracts_of(nayoro)[0].holder_name == "髙橋 ①郎"


def test_stream_and_bytes_are_accepted(nayoro):
    import io

    data = csv_text(CONTRACT_COLUMNS, [contract_row(NAYORO_NO)]).encode()
    assert contracts(nayoro, io.BytesIO(data)).inserted == 1
    assert contracts(nayoro, data).unchanged == 1


def test_undecodable_bytes_are_a_file_error(nayoro):
    data = csv_text(CONTRACT_COLUMNS, [contract_row(NAYORO_NO)]).encode() + b"\x81\x20\xff\n"
    result = contracts(nayoro, data)
    assert [(e.line, e.column) for e in result.errors] == [(1, "-")]
    assert "文字コード" in result.errors[0].message
    assert result.encoding == "" and result.summary().endswith("encoding=-")


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(nayoro, data):
    result = contracts(nayoro, data)
    assert result.status == "rejected"
    assert [(e.line, e.column, e.message) for e in result.errors] == [(1, "-", "ファイルが空です (見出し行がありません)")]
    assert batches_of(nayoro)[0].status == "rejected"


def test_header_only_imports_nothing_and_is_ok(nayoro):
    result = contracts(nayoro, (",".join(CONTRACT_COLUMNS) + "\r\n").encode())
    assert (result.status, result.rows, result.inserted) == ("ok", 0, 0)


def test_missing_unknown_and_repeated_columns_are_file_errors(nayoro):
    header = [c for c in CONTRACT_COLUMNS if c != "phone"] + ["email", "address"]
    data = csv_text(header, [contract_row(NAYORO_NO)]).encode()
    result = contracts(nayoro, data)
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (1, "email", "不明な列です"), (1, "address", "列名が重複しています"), (1, "phone", "必須の列がありません")]
    assert result.rejected == 1
    assert contracts_of(nayoro) == []


def test_bills_header_is_checked_too(nayoro, make_contract):
    make_contract(nayoro, customer_number=NAYORO_NO)
    header = [c for c in BILL_COLUMNS if c != "tax"]
    result = import_bills(nayoro, csv_text(header, [bill_row(NAYORO_NO)]).encode())
    assert [(e.line, e.column) for e in result.errors] == [(1, "tax")]
    assert bills_of(nayoro) == []


def test_columns_may_come_in_any_order(nayoro):
    header = list(reversed(CONTRACT_COLUMNS))
    assert contracts(nayoro, csv_text(header, [contract_row(NAYORO_NO)]).encode()).inserted == 1
    assert contracts_of(nayoro)[0].meter_diameter_mm == 13


def test_line_numbers_are_physical_lines(nayoro):
    # Line 1 header, 2 blank, 3-4 one record with a quoted line break, 5 blank, 6 a bad row.
    text = csv_text(CONTRACT_COLUMNS, [contract_row(NAYORO_NO, address="名寄市\n大通南1丁目")])
    header, record = text.split("\r\n", 1)
    bad = csv_text(CONTRACT_COLUMNS, [contract_row("01234567891", phone="abc")]).split("\r\n", 1)[1]
    data = f"{header}\r\n\r\n{record}\r\n{bad}".encode()
    result = contracts(nayoro, data)
    assert [(e.line, e.column) for e in result.errors] == [(6, "phone")]


def test_wrong_number_of_fields(nayoro):
    text = csv_text(CONTRACT_COLUMNS, [contract_row(NAYORO_NO)]) + "01234567891,名寄 太郎\r\n"
    result = contracts(nayoro, text.encode())
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (3, "-", "列の数が見出し行と違います (見出し 7 列、この行 2 列)")]


def test_broken_quoting_names_its_line(nayoro):
    text = csv_text(CONTRACT_COLUMNS, [contract_row(NAYORO_NO)]) + '01234567891,"名寄" 太郎,x,x,x,x,13\r\n'
    result = contracts(nayoro, text.encode())
    assert [(e.line, e.column) for e in result.errors] == [(3, "-")]
    assert "CSV として読めません" in result.errors[0].message


def test_batch_keeps_the_first_errors_and_the_result_all(nayoro, monkeypatch):
    monkeypatch.setattr(services, "ERRORS_KEPT", 2)
    rows = [contract_row(f"0123456789{n}", phone="x") for n in range(4)]
    result = contracts(nayoro, csv_text(CONTRACT_COLUMNS, rows).encode())
    assert [e.line for e in result.errors] == [2, 3, 4, 5]
    batch = batches_of(nayoro)[0]
    assert [e[0] for e in batch.errors] == [2, 3, 0]
    assert batch.errors[-1][2] == "ほか 2 件のエラーは省略しました"
    assert batch.rejected == 4
