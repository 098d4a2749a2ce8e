"""The prefilled 口座振替依頼書: one page, the bank and branch, the masked number only."""
from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from tests.pdf_support import assert_japanese_font_embedded
from waterportal.procedures.debit_pdf import DebitSheet, debit_pdf, sheet_filename

SHEET = DebitSheet(
    city="名寄市", portal="名寄市上下水道ポータル", receipt_number="R2026-000007", applied_on=dt.date(2026, 11, 18),
    customer_number="00012345682", contract_holder="名寄 太郎", contract_address="名寄市大通南1丁目",
    bank="北海道銀行（0116）", branch="名寄支店（704）", account_type="普通", masked_number="****567",
    holder_kana="ﾅﾖﾛ ﾀﾛｳ", contact="上下水道室 01654-3-2111",
)


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_the_sheet_carries_the_application_and_only_the_masked_number():
    text = text_of(debit_pdf(SHEET))
    for expected in ("口座振替依頼書", "名寄市 御中", "R2026-000007", "2026年11月18日", "00012345682", "名寄 太郎",
                     "北海道銀行（0116）", "名寄支店（704）", "普通", "****567", "ﾅﾖﾛ ﾀﾛｳ", "お届け印",
                     "上下水道室 01654-3-2111"):
        assert expected in text, expected
    assert "1234567" not in text


def test_the_japanese_font_is_embedded():
    """No viewer has to supply a Japanese font: the sheet carries the IPAexGothic subset it uses."""
    data = debit_pdf(SHEET)
    assert_japanese_font_embedded(data)
    assert "****567" in text_of(data)


def test_a_yucho_sheet_shows_the_symbol_instead_of_the_branch():
    yucho = DebitSheet(**{**SHEET.__dict__, "bank": "ゆうちょ銀行（9900）", "branch": "", "yucho_symbol": "12340",
                          "masked_number": "*****671"})
    text = text_of(debit_pdf(yucho))
    assert "記号" in text and "12340" in text and "*****671" in text and "支店" not in text


def test_names_are_text_not_markup():
    hostile = DebitSheet(**{**SHEET.__dict__, "contract_holder": '<img src="/etc/passwd"/>&amp;'})
    assert '<img src="/etc/passwd"/>&amp;' in text_of(debit_pdf(hostile))


def test_filename_names_the_receipt_number():
    assert sheet_filename(SHEET) == "口座振替依頼書_R2026-000007.pdf"
