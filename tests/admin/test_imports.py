"""取り込み in the console: the CLI's import services behind an upload form, the per-line
error report, the history of batches, and uploads limited in size and type."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import pytest
from sqlalchemy import select

from tests.imports.helpers import (
    batches_of,
    bill_row,
    contract_row,
    contracts_of,
    csv_text,
)
from tests.upload_support import multipart as upload_body
from waterportal.billing.models import Document
from waterportal.extensions import db
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context

PDF = b"%PDF-1.4\n% a tiny test document\n%%EOF\n"
NO_A, NO_B = "01234567890", "01234567891"


def text(response) -> str:
    return response.get_data(as_text=True)


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    return upload_body(fields, [("file", name, data)])


def upload(client, kind, name, data: bytes):
    fields = {"csrf_token": client.csrf_token("/admin/imports")}
    if kind:
        fields["kind"] = kind
    body, content_type = multipart(fields, name, data)
    return client.post("/admin/imports", data=body, content_type=content_type)


def contracts_file(*numbers, encoding="cp932") -> bytes:
    return csv_text(CONTRACT_COLUMNS, [contract_row(n) for n in numbers]).encode(encoding)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_admin_imports_contracts_through_the_same_service_as_the_cli(app, staff_client, nayoro, audit_entries):
    admin = staff_client("nayoro")
    page = text(upload(admin, "contracts", "contracts.csv", contracts_file(NO_A, NO_B)))
    assert "契約の取り込み結果: 取り込み完了" in page
    assert "2行を取り込みました。追加 2件、更新 0件、変更なし 0件" in page and "文字コード: cp932" in page
    with app.app_context():
        assert [c.customer_number for c in contracts_of(nayoro)] == [NO_A, NO_B]
        batch = batches_of(nayoro)[0]
    assert (batch.kind, batch.status, batch.actor, batch.filename) == ("contracts", "ok", f"staff:{admin.staff_id}", "contracts.csv")
    again = text(upload(admin, "contracts", "contracts.csv", contracts_file(NO_A, NO_B)))
    assert "追加 0件、更新 0件、変更なし 2件" in again
    history = text(admin.get("/admin/imports"))
    assert "取り込みの履歴(2件)" in history and admin.email in history
    entries = audit_entries(nayoro, "import.upload")
    assert len(entries) == 2
    actor, _, target, detail, addr = entries[0]
    assert (actor, target, addr) == (f"staff:{admin.staff_id}", f"import:{batch.id}", "127.0.0.1")
    assert detail["kind"] == "contracts" and detail["status"] == "ok" and detail["inserted"] == 2


def test_a_rejected_file_lists_every_line_and_changes_nothing(app, staff_client, nayoro):
    admin = staff_client("nayoro")
    upload(admin, "contracts", "contracts.csv", contracts_file(NO_A))
    rows = [bill_row(NO_A), bill_row("09999999999"), bill_row(NO_A, month="2026-13")]
    page = text(upload(admin, "bills", "bills.csv", csv_text(BILL_COLUMNS, rows).encode()))
    assert "請求・検針の取り込み結果: 取り込み不可(変更なし)" in page
    assert "誤りのある行が 2 行あるため、取り込みませんでした" in page
    lines = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td>', page)
    assert ("3", "customer_number") in lines and ("4", "billing_month") in lines
    with app.app_context():
        batch = batches_of(nayoro)[-1]
        assert batch.status == "rejected" and batch.rows == 3
        with tenant_context(nayoro):
            from waterportal.billing.models import Bill

            assert db.session.scalars(select(Bill)).all() == []
    detail = text(admin.get(f"/admin/imports/{batch.id}"))
    assert "取り込み不可(変更なし)" in detail and "09999999999" in detail and admin.email in detail


def test_documents_come_as_a_zip_of_the_index_and_its_files(app, staff_client, nayoro):
    admin = staff_client("nayoro")
    upload(admin, "contracts", "contracts.csv", contracts_file(NO_A))
    index = f"customer_number,title,issued_on,file\n{NO_A},水道料金改定のお知らせ,2026-08-01,files/kaitei.pdf\n"
    data = zipped({"書類/documents.csv": index.encode(), "書類/files/kaitei.pdf": PDF, "__MACOSX/._x": b"junk"})
    page = text(upload(admin, "documents", "書類.zip", data))
    assert "書類の取り込み結果: 取り込み完了" in page and "追加 1件" in page
    with app.app_context(), tenant_context(nayoro):
        document = db.session.scalars(select(Document)).one()
        assert (document.title, document.size) == ("水道料金改定のお知らせ", len(PDF))


@pytest.mark.parametrize(("files", "message"), [
    ({"documents.csv": b"customer_number,title,issued_on,file\n", "../evil.pdf": PDF}, "ZIP の中に使えない名前のファイルがあります: '../evil.pdf'"),
    ({"readme.txt": b"no index"}, "ZIP の中に documents.csv がありません"),
])
def test_unsafe_or_incomplete_zips_are_refused(staff_client, nayoro, files, message):
    page = html.unescape(text(upload(staff_client("nayoro"), "documents", "docs.zip", zipped(files))))
    assert re.search(r'id="file-error">' + re.escape(message), page), page


@pytest.mark.parametrize(("kind", "name", "data", "field", "message"), [
    (None, "contracts.csv", b"a,b\n", "kind", "取り込むデータを選択してください。"),
    ("invoices", "contracts.csv", b"a,b\n", "kind", "取り込むデータを選択してください。"),
    ("contracts", "", b"", "file", "ファイルを選択してください。"),
    ("contracts", "contracts.txt", b"a,b\n", "file", "契約(contracts.csv)はCSV ファイル (.csv)を選択してください。"),
    ("documents", "documents.csv", b"a,b\n", "file", "書類(documents.csv とファイルをまとめた ZIP)はZIP ファイル (.zip)を選択してください。"),
    ("contracts", "contracts.csv", b"\x89PNG\r\n\x1a\nrest", "file", "CSV ファイルではありません(テキスト形式の CSV を選択してください)。"),
    ("bills", "bills.csv", b"", "file", "ファイルが空です。"),
    ("documents", "docs.zip", b"not a zip at all", "file", "ZIP ファイルではありません。"),
])
def test_upload_form_errors_are_next_to_their_field(app, staff_client, nayoro, kind, name, data, field, message):
    page = text(upload(staff_client("nayoro"), kind, name, data))
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page), page
    assert "取り込み結果" not in page
    if kind in ("contracts", "bills", "documents"):
        assert re.search(rf'value="{kind}"[^>]*checked|checked[^>]*value="{kind}"', page)  # the choice is kept
    with app.app_context():
        assert batches_of(nayoro) == []


def test_a_file_over_the_forms_limit_is_refused(staff_client, monkeypatch):
    monkeypatch.setattr("waterportal.admin.uploads.CSV_MAX_BYTES", 2 * 1024 * 1024)
    page = text(upload(staff_client("nayoro"), "contracts", "big.csv", b"x" * (3 * 1024 * 1024)))
    assert re.search(r'id="file-error">ファイルが大きすぎます\(3 MB\)。2 MB までのファイルを選択してください。', page)


def test_a_request_over_max_content_length_gets_a_japanese_413(app, staff_client, monkeypatch):
    admin = staff_client("nayoro")
    token = admin.csrf_token("/admin/imports")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    body, content_type = multipart({"csrf_token": token, "kind": "contracts"}, "big.csv", b"x" * (2 * 1024 * 1024))
    response = admin.post("/admin/imports", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "一度に送れるのは 1 MB までです。" in text(response)


def test_the_form_says_it_is_working_while_a_large_file_runs(staff_client):
    page = text(staff_client("nayoro").get("/admin/imports"))
    assert 'data-busy-text="処理中です。取り込みが終わるまで、この画面を閉じずにお待ちください' in page
    assert 'id="import-busy"' in page and "/admin/static/imports.js" in page


def test_operators_cannot_import_and_batches_stay_in_their_city(app, staff_client, kanazawa):
    assert staff_client("nayoro", role="operator").get("/admin/imports").status_code == 403
    kanazawa_admin = staff_client("kanazawa")
    upload(kanazawa_admin, "contracts", "k.csv", csv_text(CONTRACT_COLUMNS, [contract_row("0123456789")]).encode())
    with app.app_context():
        batch_id = batches_of(kanazawa)[-1].id
    nayoro_admin = staff_client("nayoro")
    assert nayoro_admin.get(f"/admin/imports/{batch_id}").status_code == 404
    assert "まだ取り込みはありません。" in text(nayoro_admin.get("/admin/imports"))


def test_the_staff_see_each_bill_mail_job_beside_the_imports(app, staff_client, nayoro, make_member):
    from waterportal.contracts.models import Contract, MemberContract
    from waterportal.mail.jobs import expand_due

    admin = staff_client("nayoro")
    assert "取り込みました" in text(upload(admin, "contracts", "contracts.csv", contracts_file(NO_A)))
    member_id = make_member(nayoro, email="hanako@example.jp", data_visible_from=dt.date(2020, 1, 1), notify_bills=True)
    with app.app_context(), tenant_context(nayoro):
        contract_id = db.session.scalar(select(Contract.id).where(Contract.customer_number == NO_A))
        db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
        db.session.commit()
    assert "「請求金額のお知らせ」メールの配信" not in text(admin.get("/admin/imports"))

    bills = csv_text(BILL_COLUMNS, [bill_row(NO_A, "2026-10", due_date="2026-10-31")]).encode()
    page = text(upload(admin, "bills", "bills.csv", bills))
    assert "「請求金額のお知らせ」メールの配信" in page and "の取り込み: 宛先を準備中です。" in page

    with app.app_context():
        assert expand_due() == 1
    assert "の取り込み: 1通のうち 送信済み 0通・送信待ち 1通" in text(admin.get("/admin/imports"))
