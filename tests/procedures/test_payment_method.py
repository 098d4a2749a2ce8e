"""口座振替の申込・支払方法の変更: every rule of the kind, the encryption of the number, the
masked receipt, the export's plain number."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.procedures.kinds_support import MY_KINDS, file, member_with_contract, with_kinds
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import services
from waterportal.procedures.catalog.payment_method import DEBIT, SLIP
from waterportal.procedures.debit_pdf import debit_pdf, is_debit, sheet_for
from waterportal.procedures.kinds import ProcedureInvalid, get_kind
from waterportal.procedures.models import ProcedureRequest

BANK = {
    "method": DEBIT, "bank": "北海道", "branch": "名寄", "account_type": "普通",
    "account_number": "1234567", "holder_kana": "すいどう　たろう",
}
YUCHO = {"method": DEBIT, "bank": "ゆうちょ", "yucho_symbol": "12340", "yucho_number": "12345671",
         "holder_kana": "スイドウ タロウ"}


@pytest.fixture
def filer(app, nayoro, make_member, make_contract):
    tenant = with_kinds(nayoro, *MY_KINDS)
    with member_with_contract(app, make_member, make_contract, tenant) as (member, contract):
        yield lambda payload: file(tenant, "payment_method", payload, member, contract), tenant


def errors_of(filer, payload) -> dict[str, list[str]]:
    submit, _ = filer
    with pytest.raises(ProcedureInvalid) as caught:
        submit(payload)
    return caught.value.errors


def test_a_bank_account_is_stored_resolved_with_the_number_encrypted(filer):
    submit, tenant = filer
    request = submit(BANK)
    stored = request.payload
    assert (stored["bank_code"], stored["bank_name"], stored["branch_code"], stored["branch_name"]) == \
        ("0116", "北海道銀行", "704", "名寄")
    assert (stored["account_type"], stored["account_type_code"], stored["holder_kana"]) == ("普通", "1", "ｽｲﾄﾞｳ ﾀﾛｳ")
    assert "bank_pick" not in stored and "branch_pick" not in stored
    assert "1234567" not in json.dumps(stored)  # encrypted at rest
    assert services.decrypt_field(stored["account_number"]) == "1234567"
    rows = dict(services.summary(tenant, request))
    assert rows["口座番号"] == "****567"
    assert rows["金融機関"] == "北海道銀行（0116）" and rows["支店"] == "名寄（704）"
    assert rows["口座名義（カナ）"] == "ｽｲﾄﾞｳ ﾀﾛｳ"


def test_the_number_is_never_mailed_and_the_export_has_it_in_full(filer):
    submit, tenant = filer
    request = submit(BANK)
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "procedure_received")).all()
    assert len(mails) == 1
    assert "****567" in mails[0].body and "1234567" not in mails[0].body
    kind = get_kind("payment_method")
    plain = services.export_payload(kind, request.payload)
    assert plain["account_number"] == "1234567"
    columns = dict(kind.columns())
    assert columns["口座番号"] == "account_number" and columns["金融機関コード"] == "bank_code"


def test_the_number_is_not_logged(filer, caplog):
    submit, _ = filer
    with caplog.at_level("DEBUG"):
        submit(BANK)
    assert "1234567" not in caplog.text


def test_yucho_symbol_and_number_are_converted_and_both_numbers_encrypted(filer):
    submit, tenant = filer
    request = submit(YUCHO)
    stored = request.payload
    assert (stored["bank_code"], stored["branch_code"], stored["account_type"]) == ("9900", "238", "普通")
    assert services.decrypt_field(stored["account_number"]) == "1234567"
    assert services.decrypt_field(stored["yucho_number"]) == "12345671"
    assert "12345671" not in json.dumps(stored)
    rows = dict(services.summary(tenant, request))
    assert rows["記号"] == "12340" and rows["番号"] == "*****671" and "支店" not in rows


def test_yucho_mistakes_are_shown_at_their_fields(filer):
    errors = errors_of(filer, {**YUCHO, "yucho_symbol": "2234", "yucho_number": "12345670"})
    assert "5桁" in errors["yucho_symbol"][0] and "yucho_number" not in errors  # one thing at a time per field
    errors = errors_of(filer, {**YUCHO, "yucho_number": "12345670"})
    assert "末尾が「1」" in errors["yucho_number"][0]


def test_payment_slip_keeps_no_account(filer):
    submit, tenant = filer
    request = submit({**BANK, "method": SLIP})
    assert request.payload["account_number"] == "" and request.payload["bank_code"] == ""
    assert services.summary(tenant, request) == [("お支払方法", SLIP)]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"bank": ""}, "bank", "入力してください"),
    ({"bank": "0000"}, "bank", "「0000」"),
    ({"bank": "そんな銀行はない"}, "bank", "見つかりません"),
    ({"bank": "信金"}, "bank", "一覧から"),
    ({"branch": ""}, "branch", "入力してください"),
    ({"branch": "999"}, "branch", "「999」"),
    ({"account_type": "定期"}, "account_type", "選択"),
    ({"account_number": "123456"}, "account_number", "7桁"),
    ({"account_number": ""}, "account_number", "入力してください"),
    ({"holder_kana": "水道太郎"}, "holder_kana", "「水」「道」「太」「郎」"),
    ({"holder_kana": ""}, "holder_kana", "カタカナ"),
    ({"holder_kana": "ア" * 31}, "holder_kana", "30文字以内"),
    ({"method": "cash"}, "method", "選択"),
    ({"method": ""}, "method", "お支払方法を選択してください"),
])
def test_each_rule_names_its_field(filer, change, field, words):
    errors = errors_of(filer, {**BANK, **change})
    assert words in errors[field][0]


def test_every_field_error_comes_at_once(filer):
    errors = errors_of(filer, {**BANK, "branch": "999", "account_number": "1", "holder_kana": "漢字"})
    assert set(errors) == {"branch", "account_number", "holder_kana"}


def test_a_pick_among_candidates_chooses_the_bank(filer):
    submit, _ = filer
    request = submit({**BANK, "bank": "北海道信", "bank_pick": "1001", "branch": "001"})
    assert request.payload["bank_code"] == "1001" and request.payload["bank_name"] == "北海道信金"


def test_the_same_application_twice_is_one_request(filer):
    submit, _ = filer
    first = submit(BANK)
    second = submit({**BANK, "holder_kana": "ｽｲﾄﾞｳ ﾀﾛｳ"})  # typed differently, the same account
    assert second.id == first.id and second.duplicate


def test_the_debit_sheet_of_a_request(filer):
    submit, tenant = filer
    request = submit(BANK)
    assert is_debit(request)
    sheet = sheet_for(tenant, request)
    assert (sheet.bank, sheet.branch, sheet.masked_number) == ("北海道銀行（0116）", "名寄（704）", "****567")
    assert sheet.customer_number == request.customer_number and sheet.contract_holder == "水道 太郎"
    text = PdfReader(io.BytesIO(debit_pdf(sheet))).pages[0].extract_text()
    assert "北海道銀行（0116）" in text and "****567" in text and "1234567" not in text
    assert "名寄市 御中" in text


def test_a_yucho_sheet_and_no_sheet_for_payment_slip(filer):
    submit, tenant = filer
    sheet = sheet_for(tenant, submit(YUCHO))
    assert (sheet.yucho_symbol, sheet.masked_number, sheet.branch) == ("12340", "*****671", "")
    assert not is_debit(submit({**BANK, "method": SLIP}))


def test_the_lookup_button_checks_the_bank_and_files_nothing(filer):
    submit, tenant = filer
    found = errors_of(filer, {**BANK, "lookup": "1", "account_number": ""})
    assert found == {"_form": ["「北海道銀行 名寄」を確認しました。残りの項目を入力して「申し込む」を押してください。"]}
    assert "一覧から" in errors_of(filer, {**BANK, "lookup": "1", "bank": "信金"})["bank"][0]
    assert "「999」" in errors_of(filer, {**BANK, "lookup": "1", "branch": "999"})["branch"][0]
    assert services.list_for_member(tenant, db.session.get(Member, submit(BANK).member_id))[0].payload.get("lookup") is None
    assert len(db.session.scalars(select(ProcedureRequest)).all()) == 1


def test_the_export_row_has_the_account_in_full_and_shift_jis_keeps_the_kana(filer):
    from waterportal.procedures import export

    submit, tenant = filer
    request = submit(BANK)
    kind = get_kind("payment_method")
    head = export.header(kind)
    assert head[len(export.COMMON_COLUMNS):] == [
        "支払方法", "金融機関コード", "金融機関名", "支店コード", "支店名", "預金種目コード", "口座番号", "口座名義カナ",
        "ゆうちょ記号", "ゆうちょ番号"]
    cells = dict(zip(head, export.row(tenant, kind, request, kind.columns()), strict=True))
    assert (cells["金融機関コード"], cells["支店コード"], cells["預金種目コード"], cells["口座番号"]) == ("0116", "704", "1", "1234567")
    assert cells["口座名義カナ"] == "ｽｲﾄﾞｳ ﾀﾛｳ"
    body, replaced = export.encode(export.write_csv(head, [list(cells.values())]), "shift_jis")
    assert replaced == 0 and "ｽｲﾄﾞｳ ﾀﾛｳ".encode("cp932") in body
