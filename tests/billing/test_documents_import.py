"""flask import documents: an index CSV and its files, checked row by row, all or nothing, idempotent."""
from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from waterportal.billing.models import Document
from waterportal.extensions import db
from waterportal.imports.documents import import_documents
from waterportal.imports.models import ImportBatch
from waterportal.tenancy.context import tenant_context

NAYORO_NO, OTHER_NO = "00012345682", "00012345693"
KANAZAWA_NO = "0100012345"
COLUMNS = ["customer_number", "title", "issued_on", "file"]


def pdf(marker: str) -> bytes:
    return f"%PDF-1.4\n% {marker}\n%%EOF\n".encode()


@pytest.fixture
def folder(tmp_path):
    """``folder(rows, files={name: bytes}, encoding=...)`` -> a directory with documents.csv and files."""
    counter = iter(range(1, 100))

    def make(rows, files=None, encoding="utf-8"):
        root = tmp_path / f"docs{next(counter)}"
        root.mkdir()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        (root / "documents.csv").write_bytes(out.getvalue().encode(encoding))
        for name, data in (files or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return root

    return make


def run(app, tenant, root):
    with app.app_context(), tenant_context(tenant):
        result = import_documents(tenant, root, actor="test")
        db.session.commit()
        return result


def documents_of(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return [(d.title, d.issued_on.isoformat(), d.filename, d.size, d.sha256[:8])
                for d in db.session.scalars(select(Document).order_by(Document.issued_on, Document.id))]


def test_import_then_download_as_the_member(app, client, nayoro, customer, login, folder, clock):
    customer(nayoro, [NAYORO_NO])
    root = folder([
        [NAYORO_NO, "水道料金改定のお知らせ", "2026-08-01", "kaitei.pdf"],
        [NAYORO_NO, "漏水調査の結果について", "2026-09-15", "sub/rousui.pdf"],
    ], {"kaitei.pdf": pdf("a"), "sub/rousui.pdf": pdf("b")})
    result = run(app, nayoro, root)
    assert result.ok and (result.inserted, result.updated, result.unchanged) == (2, 0, 0)
    assert [d[:3] for d in documents_of(app, nayoro)] == [
        ("水道料金改定のお知らせ", "2026-08-01", "kaitei.pdf"), ("漏水調査の結果について", "2026-09-15", "rousui.pdf")]
    login(client, nayoro)
    body = client.get("/mypage/documents").get_data(as_text=True)
    assert body.index("漏水調査の結果について") < body.index("水道料金改定のお知らせ")  # newest first
    assert "令和8年8月1日発行" in body  # Nayoro writes 和暦
    with app.app_context(), tenant_context(nayoro):
        doc_id = db.session.scalar(select(Document.id).where(Document.filename == "kaitei.pdf"))
    response = client.get(f"/mypage/documents/{doc_id}")
    assert response.status_code == 200 and response.data == pdf("a")
    assert response.mimetype == "application/pdf" and response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "水道料金改定のお知らせ_20260801.pdf"
    with app.app_context(), tenant_context(nayoro):
        batch = db.session.scalar(select(ImportBatch).where(ImportBatch.id == result.batch_id))
        assert batch.kind == "documents" and batch.filename == f"{root.name}/documents.csv"
        assert set(db.session.scalars(select(Document.batch_id))) == {result.batch_id}


def test_running_again_changes_nothing_and_a_new_file_replaces(app, nayoro, customer, folder, clock):
    customer(nayoro, [NAYORO_NO])
    rows = [[NAYORO_NO, "通知書", "2026-08-01", "a.pdf"], [NAYORO_NO, "通知書", "2026-09-01", "b.pdf"]]
    root = folder(rows, {"a.pdf": pdf("a"), "b.pdf": pdf("b")})
    assert run(app, nayoro, root).inserted == 2
    before = documents_of(app, nayoro)
    again = run(app, nayoro, root)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert documents_of(app, nayoro) == before
    (root / "b.pdf").write_bytes(pdf("b, corrected"))
    changed = run(app, nayoro, root)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    after = documents_of(app, nayoro)
    assert after[0] == before[0] and after[1][4] != before[1][4]


def test_every_problem_with_its_line_and_nothing_written(app, nayoro, customer, folder, clock):
    customer(nayoro, [NAYORO_NO])
    root = folder([
        [NAYORO_NO, "正しい行", "2026-08-01", "ok.pdf"],                   # line 2: valid, still not written
        ["99999999999", "契約なし", "2026-08-01", "ok.pdf"],               # 3
        ["123", "桁違い", "2026-08-01", "ok.pdf"],                          # 4
        [NAYORO_NO, "", "2026/08/01", "missing.pdf"],                       # 5: title, date, file
        [NAYORO_NO, "外へ", "2026-08-02", "../secret.pdf"],                 # 6
        [NAYORO_NO, "偽物", "2026-08-03", "fake.pdf"],                      # 7: not a PDF inside
        [NAYORO_NO, "表計算", "2026-08-04", "sheet.xlsx"],                  # 8
        [NAYORO_NO, "正しい行", "2026-08-01", "ok.pdf"],                   # 9: duplicate of line 2
        [NAYORO_NO, "列不足"],                                              # 10
    ], {"ok.pdf": pdf("ok"), "fake.pdf": b"<html>not a pdf</html>", "sheet.xlsx": b"PK\x03\x04"})
    (root.parent / "secret.pdf").write_bytes(pdf("outside"))
    result = run(app, nayoro, root)
    assert result.status == "rejected"
    found = {(p.line, p.column) for p in result.errors}
    assert found == {
        (3, "customer_number"), (4, "customer_number"), (5, "title"), (5, "issued_on"), (5, "file"),
        (6, "file"), (7, "file"), (8, "file"), (9, "title"), (10, "-"),
    }
    messages = {(p.line, p.column): p.message for p in result.errors}
    assert "99999999999 の契約が登録されていません" in messages[(3, "customer_number")]
    assert "相対パス" in messages[(6, "file")] and "拡張子" in messages[(7, "file")]
    assert "2 行目と重複" in messages[(9, "title")]
    assert documents_of(app, nayoro) == []


def test_missing_index_is_a_rejection(app, nayoro, tmp_path, clock):
    result = run(app, nayoro, tmp_path)
    assert result.status == "rejected" and "documents.csv がありません" in result.errors[0].message


def test_kanazawa_shift_jis_index_and_city_isolation(app, client_for, nayoro, kanazawa, customer, login, folder, clock):
    customer(kanazawa, [KANAZAWA_NO])
    customer(nayoro, [NAYORO_NO])
    root = folder([[KANAZAWA_NO, "下水道使用料のお知らせ①", "2026-07-01", "k.pdf"]], {"k.pdf": pdf("k")}, encoding="cp932")
    result = run(app, kanazawa, root)
    assert result.ok and result.encoding == "cp932" and result.inserted == 1
    assert documents_of(app, nayoro) == []
    # a Nayoro index naming a Kanazawa customer number is refused (10 digits are not a Nayoro number)
    assert not run(app, nayoro, root).ok
    with app.app_context(), tenant_context(kanazawa):
        doc_id = db.session.scalar(select(Document.id))
    kanazawa_client = client_for("kanazawa")
    login(kanazawa_client, kanazawa)
    assert kanazawa_client.get(f"/mypage/documents/{doc_id}").data == pdf("k")
    nayoro_client = client_for("nayoro")
    login(nayoro_client, nayoro)
    assert nayoro_client.get(f"/mypage/documents/{doc_id}").status_code == 404


def test_another_members_document_is_404(app, client_for, nayoro, customer, login, folder, clock):
    customer(nayoro, [NAYORO_NO])
    customer(nayoro, [OTHER_NO], email="jiro@example.jp")
    run(app, nayoro, folder([[OTHER_NO, "次郎さんの通知", "2026-08-01", "j.pdf"]], {"j.pdf": pdf("j")}))
    with app.app_context(), tenant_context(nayoro):
        doc_id = db.session.scalar(select(Document.id))
    hanako = client_for("nayoro")
    login(hanako, nayoro)
    assert hanako.get(f"/mypage/documents/{doc_id}").status_code == 404
    assert "次郎さんの通知" not in hanako.get("/mypage/documents").get_data(as_text=True)
    jiro = client_for("nayoro")
    login(jiro, nayoro, "jiro@example.jp")
    assert jiro.get(f"/mypage/documents/{doc_id}").status_code == 200


def test_cli(runner, nayoro, customer, folder, clock):
    customer(nayoro, [NAYORO_NO])
    root = folder([[NAYORO_NO, "通知書", "2026-08-01", "a.pdf"]], {"a.pdf": pdf("a")})
    result = runner.invoke(args=["import", "documents", "--tenant", "nayoro", str(root)])
    assert result.exit_code == 0, result.output
    assert "nayoro documents ok: inserted=1 updated=0 unchanged=0 rejected=0" in result.output
    bad = folder([[NAYORO_NO, "通知書", "2026-08-01", "nothing.pdf"]])
    result = runner.invoke(args=["import", "documents", "--tenant", "nayoro", str(bad)])
    assert result.exit_code == 1
    assert "line 2: file: ファイルがありません: 'nothing.pdf'" in result.output
