"""各種お手続き in the console: the queue (filters, oldest first, pages), one request (masked
payload, files, history), status changes with the citizen's mail, assignment, the export
download; operators process, every step is audited, no city sees another's requests."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.procedures.staff_support import add_request, get_request
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures.models import ProcedureEvent
from waterportal.tenancy.context import tenant_context

PDF = b"%PDF-1.4 receipt of the repair"


def receipts(body: str) -> list[str]:
    """The 受付番号 of the queue's rows, in page order."""
    return re.findall(r'/admin/procedures/\d+">(R\d{4}-\d{6})</a>', body)


def outbox(app, tenant, to_address: str) -> list[OutboxMessage]:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == to_address)
                                  .order_by(OutboxMessage.id)).all()


@pytest.fixture
def queue(app, nayoro, kanazawa):
    """Nayoro: four requests in several states and days; Kanazawa: one with a marker."""
    ids = {
        "old": add_request(app, nayoro, "move_in", "received", created_at=dt.datetime(2026, 11, 10, 1, 0)),
        "new": add_request(app, nayoro, "payment_method", "in_progress", created_at=dt.datetime(2026, 11, 17, 1, 0),
                           customer_number="00012345678", files=(("修理の領収書.pdf", "application/pdf", PDF),)),
        "done": add_request(app, nayoro, "move_in", "completed", created_at=dt.datetime(2026, 11, 5, 1, 0)),
        "returned": add_request(app, nayoro, "move_in", "returned", created_at=dt.datetime(2026, 11, 12, 1, 0)),
        "kanazawa": add_request(app, kanazawa, "move_in", "received", applicant_name="金沢の申請者",
                                files=(("kanazawa.pdf", "application/pdf", b"%PDF-1.4 kanazawa"),)),
    }
    with app.app_context(), tenant_context(nayoro):
        from waterportal.procedures.models import ProcedureAttachment
        ids["file"] = db.session.scalar(select(ProcedureAttachment.id).where(ProcedureAttachment.request_id == ids["new"]))
    with app.app_context(), tenant_context(kanazawa):
        from waterportal.procedures.models import ProcedureAttachment
        ids["kanazawa_file"] = db.session.scalar(select(ProcedureAttachment.id))
    return ids


def number(app, tenant, request_id: int) -> str:
    return get_request(app, tenant, request_id).receipt_number


def test_the_queue_lists_open_requests_oldest_first_and_filters(app, staff_client, nayoro, queue):
    operator = staff_client("nayoro", role="operator")
    page = operator.get("/admin/procedures")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    assert '各種お手続き</a>' in body  # the console's menu
    assert "各種お手続き(未完了 3件)" in operator.get("/admin/").get_data(as_text=True)  # the console's home
    n = {key: number(app, nayoro, queue[key]) for key in ("old", "new", "done", "returned")}
    assert receipts(body) == [n["old"], n["returned"], n["new"]]  # open only, oldest first
    every = operator.get("/admin/procedures", query_string={"status": ""}).get_data(as_text=True)
    assert receipts(every) == [n["done"], n["old"], n["returned"], n["new"]]
    filters = {
        (("kind", "payment_method"),): [n["new"]],
        (("status", "completed"),): [n["done"]],
        (("status", ""), ("date_from", "2026-11-10"), ("date_to", "2026-11-12")): [n["old"], n["returned"]],
        (("status", ""), ("date_from", "２０２６/１１/１７")): [n["new"]],
        (("status", ""), ("receipt_number", n["done"].lower())): [n["done"]],
        (("customer_number", "0001-2345-678"),): [n["new"]],
    }
    for query, expected in filters.items():
        listed = receipts(operator.get("/admin/procedures", query_string=dict(query)).get_data(as_text=True))
        assert listed == expected, query
    refused = operator.get("/admin/procedures", query_string={"date_from": "2026-13-45", "kind": "nai"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "日付は 2026-04-01 の形式で入力してください。" in text
    assert "種類を選択してください。" in text and receipts(text) == [n["old"], n["returned"], n["new"]]


def test_the_queue_pages_by_thirty(app, staff_client, nayoro):
    for day in range(31):
        add_request(app, nayoro, "move_in", "received", created_at=dt.datetime(2026, 10, 1, 1, 0) + dt.timedelta(hours=day))
    operator = staff_client("nayoro", role="operator")
    first = operator.get("/admin/procedures").get_data(as_text=True)
    second = operator.get("/admin/procedures", query_string={"page": 2}).get_data(as_text=True)
    assert len(receipts(first)) == 30 and len(receipts(second)) == 1
    assert "31件、1 / 2ページ" in first and 'page=2' in first
    assert set(receipts(first)).isdisjoint(receipts(second))


def test_the_detail_masks_the_account_number_and_serves_the_file_to_staff(app, staff_client, nayoro, queue,
                                                                          audit_entries):
    operator = staff_client("nayoro", role="operator")
    page = operator.get(f"/admin/procedures/{queue['new']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "9876543" not in body  # the account number never in clear; the kind's summary rows (masked) are shown
    with app.app_context(), tenant_context(nayoro):
        from waterportal.procedures.models import ProcedureRequest
        from waterportal.procedures.services import summary
        rows = summary(nayoro, db.session.get(ProcedureRequest, queue["new"]))
    assert rows and all(str(escape(value)) in body for _, value in rows)
    assert "****543" in body  # the last 3 digits, as the citizen sees it
    assert "修理の領収書.pdf" in body and "受付" in body  # file and history
    download = operator.get(f"/admin/procedures/{queue['new']}/files/{queue['file']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert ("procedure.file_downloaded" in [e[1] for e in audit_entries(nayoro)])
    # Another request's file id, another city's request or file: not found.
    assert operator.get(f"/admin/procedures/{queue['old']}/files/{queue['file']}").status_code == 404
    assert operator.get(f"/admin/procedures/{queue['kanazawa']}").status_code == 404
    assert operator.get(f"/admin/procedures/{queue['kanazawa']}/files/{queue['kanazawa_file']}").status_code == 404
    assert operator.get(f"/admin/procedures/{queue['new']}/files/{queue['kanazawa_file']}").status_code == 404


def test_staff_of_one_city_never_see_the_others_requests(app, staff_client, kanazawa, queue):
    admin = staff_client("kanazawa")
    body = admin.get("/admin/procedures", query_string={"status": ""}).get_data(as_text=True)
    assert receipts(body) == [number(app, kanazawa, queue["kanazawa"])]
    for key in ("old", "new", "done"):
        assert admin.get(f"/admin/procedures/{queue[key]}").status_code == 404
        response = admin.submit(f"/admin/procedures/{queue[key]}/status", {"status": "completed", "message": "x"},
                                form_page="/admin/procedures")
        assert response.status_code == 404
    assert admin.get(f"/admin/procedures/{queue['new']}/files/{queue['file']}").status_code == 404


def test_an_operator_returns_a_request_with_a_message_the_citizen_is_mailed(app, staff_client, nayoro, queue,
                                                                             audit_entries):
    operator = staff_client("nayoro", role="operator")
    path = f"/admin/procedures/{queue['old']}"
    request = get_request(app, nayoro, queue["old"])
    # 差戻し without a message: refused next to the field, nothing changes.
    refused = operator.submit(f"{path}/status", {"status": "returned", "message": "  "}, form_page=path)
    assert refused.status_code == 200
    assert "差戻しの理由(お客さまに直していただく内容)を入力してください。" in refused.get_data(as_text=True)
    assert get_request(app, nayoro, queue["old"]).status == "received"
    # With the message: done, recorded, audited, mailed.
    response = operator.submit(f"{path}/status", {"status": "returned", "message": "建物名を入力してください。"},
                               form_page=path)
    assert response.status_code == 302
    assert get_request(app, nayoro, queue["old"]).status == "returned"
    with app.app_context(), tenant_context(nayoro):
        event = db.session.scalars(select(ProcedureEvent).where(ProcedureEvent.request_id == queue["old"])
                                   .order_by(ProcedureEvent.id.desc())).first()
        assert (event.status, event.message, event.actor_kind, event.actor_id) == (
            "returned", "建物名を入力してください。", "staff", operator.staff_id)
    mails = outbox(app, nayoro, request.applicant_email)
    assert len(mails) == 1 and "建物名を入力してください。" in mails[0].body
    assert ("procedure.status" in [e[1] for e in audit_entries(nayoro)])
    assert "建物名を入力してください。" in operator.get(path).get_data(as_text=True)  # the history


def test_a_status_the_request_cannot_take_is_refused(app, staff_client, nayoro, queue):
    admin = staff_client("nayoro")
    path = f"/admin/procedures/{queue['done']}"
    assert "状態を変更できません" in admin.get(path).get_data(as_text=True)
    response = admin.submit(f"{path}/status", {"status": "in_progress", "message": ""},
                            form_page=f"/admin/procedures/{queue['old']}")
    assert response.status_code == 200
    assert "「完了」の申請は「処理中」にできません。" in response.get_data(as_text=True)
    assert get_request(app, nayoro, queue["done"]).status == "completed"


def test_assignment_to_a_staff_member_of_the_city_only(app, staff_client, make_staff, nayoro, kanazawa, queue,
                                                       audit_entries):
    colleague = make_staff(nayoro, email="tanto@example.jp", role="operator", name="担当 一郎")
    stranger = make_staff(kanazawa, email="yoso@example.jp", role="operator")
    operator = staff_client("nayoro", role="operator")
    path = f"/admin/procedures/{queue['old']}"
    assert operator.submit(f"{path}/assign", {"assignee": str(colleague)}, form_page=path).status_code == 302
    assert get_request(app, nayoro, queue["old"]).assignee_id == colleague
    assert "担当 一郎" in operator.get("/admin/procedures").get_data(as_text=True)
    # The queue of one's own and of nobody's.
    assert operator.submit(f"{path}/assign", {"assignee": str(operator.staff_id)}, form_page=path).status_code == 302
    mine = receipts(operator.get("/admin/procedures", query_string={"assignee": "me"}).get_data(as_text=True))
    nobodys = receipts(operator.get("/admin/procedures", query_string={"assignee": "none"}).get_data(as_text=True))
    assert mine == [number(app, nayoro, queue["old"])] and number(app, nayoro, queue["old"]) not in nobodys
    assert len(nobodys) == 2
    assert operator.submit(f"{path}/assign", {"assignee": str(colleague)}, form_page=path).status_code == 302
    refused = operator.submit(f"{path}/assign", {"assignee": str(stranger)}, form_page=path)
    assert refused.status_code == 200 and "担当者を一覧から選択してください。" in refused.get_data(as_text=True)
    assert get_request(app, nayoro, queue["old"]).assignee_id == colleague
    assert operator.submit(f"{path}/assign", {"assignee": ""}, form_page=path).status_code == 302
    assert get_request(app, nayoro, queue["old"]).assignee_id is None
    assert [e[1] for e in audit_entries(nayoro, "procedure.assigned")] == ["procedure.assigned"] * 4


def test_operators_process_admins_configure(staff_client, queue):
    operator = staff_client("nayoro", role="operator")
    for path in ("/admin/procedures", f"/admin/procedures/{queue['old']}", "/admin/procedures/export"):
        assert operator.get(path).status_code == 200, path
    assert operator.get("/admin/settings/procedures").status_code == 403
    assert "受け付ける手続き" in staff_client("nayoro").get("/admin/settings/procedures").get_data(as_text=True)


def test_the_console_export_downloads_each_request_once(app, staff_client, nayoro, queue, audit_entries):
    operator = staff_client("nayoro", role="operator")
    page = operator.get("/admin/procedures/export").get_data(as_text=True)
    assert "口座振替の申込・支払方法の変更" in page and "口座番号" in page
    first = operator.submit("/admin/procedures/export", {"kind": "payment_method", "again": "new"})
    assert first.status_code == 200 and first.headers["Content-Disposition"].startswith("attachment;")
    text = first.data.decode("utf-8-sig")
    assert number(app, nayoro, queue["new"]) in text and "9876543" in text  # the billing system needs it
    again = operator.submit("/admin/procedures/export", {"kind": "payment_method", "again": "new"})
    assert number(app, nayoro, queue["new"]) not in again.data.decode("utf-8-sig")
    refused = operator.submit("/admin/procedures/export", {"kind": "payment_method", "again": "again"})
    assert "開始日と終了日を入力してください" in refused.get_data(as_text=True)
    redo = operator.submit("/admin/procedures/export", {"kind": "payment_method", "again": "again",
                                                        "date_from": "2026-11-17", "date_to": "2026-11-17"})
    assert number(app, nayoro, queue["new"]) in redo.data.decode("utf-8-sig")
    assert len(audit_entries(nayoro, "procedure.export")) == 3


def test_an_admin_uploads_the_billing_answer_all_or_nothing(app, staff_client, nayoro, queue, audit_entries):
    admin = staff_client("nayoro")
    n = {key: number(app, nayoro, queue[key]) for key in ("new", "old", "done")}
    assert "料金システムからの回答" in admin.get("/admin/procedures").get_data(as_text=True)
    # One bad line: nothing changes, every problem is listed with its line.
    bad = f"receipt_number,status,message\r\n{n['new']},完了,登録しました。\r\n{n['done']},処理中,\r\nR2026-999999,完了,\r\n"
    refused = admin.submit("/admin/procedures/answer", {"file": (io.BytesIO(bad.encode("cp932")), "kekka.csv")},
                           content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "誤りがあるため取り込みませんでした" in text
    assert "<td>3</td><td>status</td>" in text and "<td>4</td><td>receipt_number</td>" in text
    assert get_request(app, nayoro, queue["new"]).status == "in_progress"
    # The good file: applied, counted, audited under the admin who uploaded it.
    good = f"receipt_number,status,message\n{n['new']},completed,口座振替を登録しました。\n{n['old']},処理中,\n"
    done = admin.submit("/admin/procedures/answer", {"file": (io.BytesIO(good.encode()), "kekka.csv")},
                        content_type="multipart/form-data")
    assert "2行を取り込みました。状態の変更 2件" in done.get_data(as_text=True)
    assert (get_request(app, nayoro, queue["new"]).status, get_request(app, nayoro, queue["old"]).status) == (
        "completed", "in_progress")
    imports = audit_entries(nayoro, "procedure.status_import")
    assert [(e[0], e[3]["status"]) for e in imports] == [(f"staff:{admin.staff_id}", "rejected"),
                                                          (f"staff:{admin.staff_id}", "ok")]
    # Not a CSV: refused next to the field.
    junk = admin.submit("/admin/procedures/answer", {"file": (io.BytesIO(b"%PDF-1.4 x"), "kekka.csv")},
                        content_type="multipart/form-data")
    assert "CSV ファイルではありません" in junk.get_data(as_text=True)
    # Operators process requests; loading the billing system's answer is the admins' (like 取り込み).
    operator = staff_client("nayoro", role="operator")
    assert operator.get("/admin/procedures/answer").status_code == 403
    assert "料金システムからの回答" not in operator.get("/admin/procedures").get_data(as_text=True)
