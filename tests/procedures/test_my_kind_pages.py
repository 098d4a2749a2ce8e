"""名義変更, 送付先変更, 口座振替 and ペーパーレス in the browser's shoes, in both demo cities:
the forms, input kept with the error at its field, the receipt (masked number, the month
paperless applies from), the 口座振替依頼書 PDF for the member and the staff, the bank
suggestions, and the contracts page's 検針票 column (Kanazawa does not offer paperless)."""
from __future__ import annotations

import html
import io
import re
from urllib.parse import unquote

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.admin.conftest import make_staff, staff_client  # noqa: F401 (the fixtures)
from waterportal.audit.models import AuditEntry
from waterportal.extensions import db
from waterportal.procedures import services
from waterportal.procedures.models import ProcedureRequest
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"
BANK = {
    "method": "口座振替（新規の申込み・口座の変更）", "bank": "北海道", "branch": "名寄", "account_type": "普通",
    "account_number": "1234567", "holder_kana": "すいどう たろう",
}
HOLDER = {"new_name": "水道 花子", "new_name_kana": "スイドウハナコ", "relationship": "配偶者",
          "reason": "ご家族の間での名義の変更", "effective_date": "2026-11-24", "phone": "0165432111"}
ADDRESS = {"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "street": "千代田1-1",
           "recipient": "水道 太郎"}
PAPERLESS = {"choice": "ペーパーレスにする（紙の検針票の郵送をやめる）", "consent": "y"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client, kind: str, fields: dict, contract_id: int):
    return client.submit(f"/procedures/new/{kind}", {"contract_id": str(contract_id), **fields})


def receipt(client) -> tuple[str, str]:
    page = text(client.get("/procedures/receipt"))
    return re.search(r"R2026-\d{6}", page).group(0), page


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
@pytest.mark.parametrize(("kind", "words"), [
    ("holder_change", ("新しいご契約者名", "名義変更日", "相続（ご契約者のご逝去）", "現在のご契約者との関係", 'type="date"')),
    ("billing_address", ("郵便番号", "<option value=\"沖縄県\"", "建物名・部屋番号", 'autocomplete="postal-code"')),
    ("payment_method", ("金融機関", "ゆうちょ銀行の場合", "記号", "金融機関・支店を確認", "bank-search.js")),
])
def test_the_forms_in_both_cities(member_client, slug, kind, words):
    client, contract_id = member_client(slug)
    response = client.get(f"/procedures/new/{kind}")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for word in words:
        assert word in page, word
    assert f'value="{contract_id}"' in page  # the linked contract to choose


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_direct_debit_end_to_end(member_client, slug):
    client, contract_id = member_client(slug)
    response = post(client, "payment_method", BANK, contract_id)
    assert response.status_code == 302, text(response)[:500]
    number, page = receipt(client)
    assert "****567" in page and "1234567" not in page and "ｽｲﾄﾞｳ ﾀﾛｳ" in page
    assert f"/procedures/{number}/debit.pdf" in page  # the receipt offers the sheet
    detail = text(client.get(f"/procedures/{number}"))
    assert "****567" in detail and "1234567" not in detail and f"/procedures/{number}/debit.pdf" in detail
    pdf = client.get(f"/procedures/{number}/debit.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert unquote(pdf.headers["Content-Disposition"].split("filename*=UTF-8''")[1]) == f"口座振替依頼書_{number}.pdf"
    sheet = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "北海道銀行（0116）" in sheet and "****567" in sheet and "1234567" not in sheet


def test_the_sheet_is_only_the_members_own(member_client):
    client, contract_id = member_client("nayoro")
    post(client, "payment_method", BANK, contract_id)
    number, _ = receipt(client)
    other, other_contract = member_client("nayoro", email="hanako@example.jp")
    assert other.get(f"/procedures/{number}/debit.pdf").status_code == 404
    post(other, "payment_method", {**BANK, "method": "納付書（口座振替をやめる）"}, other_contract)
    slip, page = receipt(other)
    assert "debit.pdf" not in page and other.get(f"/procedures/{slip}/debit.pdf").status_code == 404
    # Kanazawa's member, whose own application has the same 受付番号 in Kanazawa, gets Kanazawa's sheet.
    kanazawa, kanazawa_contract = member_client("kanazawa")
    assert kanazawa.get(f"/procedures/{number}/debit.pdf").status_code == 404
    post(kanazawa, "payment_method", {**BANK, "account_number": "7654321"}, kanazawa_contract)
    assert receipt(kanazawa)[0] == number
    sheet = PdfReader(io.BytesIO(kanazawa.get(f"/procedures/{number}/debit.pdf").data)).pages[0].extract_text()
    assert "金沢市 御中" in sheet and "****321" in sheet and "名寄市" not in sheet and "****567" not in sheet


def test_an_error_keeps_what_was_typed_and_shows_candidates(member_client):
    client, contract_id = member_client("nayoro")
    response = post(client, "payment_method", {**BANK, "bank": "信金", "holder_kana": "水道太郎"}, contract_id)
    page = text(response)
    assert response.status_code == 422
    assert 'value="信金"' in page and 'value="1234567"' in page  # typed values kept
    assert "一覧から金融機関を選んでください" in page and 'name="bank_pick"' in page  # the candidates, no JS needed
    assert "「水」「道」「太」「郎」" in page


def test_nothing_is_filed_on_an_error(app, member_client, nayoro):
    client, contract_id = member_client("nayoro")
    assert post(client, "payment_method", {**BANK, "account_number": "12"}, contract_id).status_code == 422
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(ProcedureRequest.id)) is None


def test_the_lookup_button_files_nothing(member_client):
    client, contract_id = member_client("nayoro")
    response = post(client, "payment_method", {"method": BANK["method"], "bank": "0116", "branch": "名寄",
                                               "lookup": "1"}, contract_id)
    page = text(response)
    assert response.status_code == 422 and "「北海道銀行 名寄」を確認しました" in page
    assert "0116 北海道銀行 / 704 名寄" in page


def test_bank_suggestions_are_json(client):
    answer = client.get("/procedures/banks?q=ほっかいどう").get_json()
    assert answer["banks"][0] == {"code": "0116", "name": "北海道銀行", "kana": "ホツカイドウ", "label": "0116 北海道銀行"}
    branches = client.get("/procedures/banks/branches?bank=0116%20北海道銀行&q=なよろ").get_json()
    assert branches["branches"] == [{"code": "704", "name": "名寄", "kana": "ナヨロ", "label": "704 名寄"}]
    assert client.get("/procedures/banks/branches?bank=abc&q=x").get_json() == {"branches": []}
    for hostile in ("x" * 5000, "ab%00cd", "%3Cscript%3Ealert(1)%3C/script%3E", "😀🚰", "-1", "9" * 40, ""):
        response = client.get(f"/procedures/banks?q={hostile}")
        assert response.status_code == 200 and response.get_json() == {"banks": []}, hostile
        branches = client.get(f"/procedures/banks/branches?bank={hostile}&q={hostile}")
        assert branches.status_code == 200 and branches.get_json() == {"branches": []}, hostile


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_holder_change_and_billing_address(member_client, slug):
    client, contract_id = member_client(slug)
    response = post(client, "holder_change", {**HOLDER, "effective_date": "2026-11-23"}, contract_id)
    assert response.status_code == 422 and "2026年11月" in text(response) and 'value="水道 花子"' in text(response)
    assert post(client, "holder_change", HOLDER, contract_id).status_code == 302
    _, page = receipt(client)
    assert "水道 花子" in page and "2026-11-24" in page
    response = post(client, "billing_address", {**ADDRESS, "postal_code": "1234"}, contract_id)
    assert response.status_code == 422 and "郵便番号は7桁" in text(response)
    assert post(client, "billing_address", ADDRESS, contract_id).status_code == 302
    assert "100-0001" in receipt(client)[1]


def test_paperless_in_nayoro(member_client):
    client, contract_id = member_client("nayoro")
    form = text(client.get("/procedures/new/paperless"))
    assert "次回の請求分から適用" in form
    # The form names the month for each linked contract (no bill yet: next month) and its state now.
    assert re.search(r"<td>紙の検針票を郵送</td><td>2026年12月分から</td>", form)
    response = post(client, "paperless", {"choice": PAPERLESS["choice"]}, contract_id)
    assert response.status_code == 422 and "同意が必要" in text(response)
    assert post(client, "paperless", PAPERLESS, contract_id).status_code == 302
    number, page = receipt(client)
    assert "2026年12月分から" in page  # no bill yet: next month
    contracts = text(client.get("/mypage/contracts"))
    assert "検針票" in contracts and f"ペーパーレスへの切替: 受付（{number}、2026年12月分から）" in contracts
    # The contracts page's link opens the form with the contract chosen.
    link = f"/procedures/new/paperless?contract_id={contract_id}"
    assert link in contracts
    assert f'<option value="{contract_id}" selected>' in text(client.get(link))


def test_kanazawa_does_not_offer_paperless(member_client):
    client, contract_id = member_client("kanazawa")
    assert client.get("/procedures/new/paperless").status_code == 404
    response = client.submit("/procedures/new/paperless", {"contract_id": str(contract_id), **PAPERLESS},
                             form_page="/procedures/new/holder_change")
    assert response.status_code == 404
    assert "検針票のペーパーレス" not in text(client.get("/procedures/"))
    assert "<th scope=\"col\">検針票</th>" not in text(client.get("/mypage/contracts"))


def test_staff_download_the_sheet_audited(app, member_client, staff_client, nayoro, kanazawa):  # noqa: F811
    client, contract_id = member_client("nayoro")
    post(client, "payment_method", BANK, contract_id)
    with app.app_context(), tenant_context(nayoro):
        request_id = db.session.scalar(select(ProcedureRequest.id))
    staff = staff_client("nayoro")
    page = text(staff.get(f"/admin/procedures/{request_id}"))
    assert f"/admin/procedures/{request_id}/debit.pdf" in page and "****567" in page
    pdf = staff.get(f"/admin/procedures/{request_id}/debit.pdf")
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"
    assert "****567" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    with app.app_context(), tenant_context(nayoro):
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "procedure.debit_sheet_downloaded" in actions
    assert staff_client("kanazawa").get(f"/admin/procedures/{request_id}/debit.pdf").status_code == 404


def test_a_returned_direct_debit_is_corrected_with_the_number_typed_again(app, member_client, nayoro):
    client, contract_id = member_client("nayoro")
    post(client, "payment_method", BANK, contract_id)
    number, _ = receipt(client)
    with app.app_context(), tenant_context(nayoro):
        filed = db.session.scalar(select(ProcedureRequest))
        services.change_status(nayoro, filed, "returned", "口座番号をご確認ください。", "staff:1")
        db.session.commit()
    page = text(client.get(f"/procedures/{number}"))
    assert "口座番号などは、確認のためもう一度入力してください" in page
    assert 'value="0116 北海道銀行"' in page and 'value="704 名寄"' in page  # kept as resolved
    assert 'id="f-account_number" name="account_number" type="text" value=""' in page  # never sent back
    form = {key: value for key, value in BANK.items() if key != "bank"}
    response = client.submit(f"/procedures/{number}", {**form, "bank": "0116 北海道銀行", "account_number": "7654321"})
    assert response.status_code == 302, text(response)[:400]
    detail = text(client.get(f"/procedures/{number}"))
    assert "****321" in detail and "7654321" not in detail


def test_a_link_preselects_choices_never_typed_values(member_client):
    """A link may choose 口座振替 (registration's 「支払方法」 does), but a crafted link cannot
    fill in a bank or an account number for the citizen to file without noticing."""
    client, contract_id = member_client("nayoro")
    page = text(client.get("/procedures/new/payment_method", query_string={
        "method": BANK["method"], "contract_id": contract_id, "bank": "悪意銀行", "account_number": "9999999"}))
    assert 'value="悪意銀行"' not in page and 'value="9999999"' not in page  # (the URL stays in the language switch)
    assert 'name="bank"' in page and 'name="account_number"' in page
    assert re.search(r'value="口座振替（新規の申込み・口座の変更）"[^>]*checked|checked[^>]*value="口座振替', page)
