"""お問い合わせ in the console: what citizens sent through the real form, filtered by
status, one by one, marked answered (who and when) or reopened, audited, per city."""
from __future__ import annotations

import re


def text(response) -> str:
    return response.get_data(as_text=True)


def send(client, subject, body="本文です。\n二行目 <b>太字</b>", email="hanako@example.jp"):
    response = client.submit("/inquiry", {"name": "水道 花子", "email": email, "customer_number": "",
                                          "category": "料金・使用量", "subject": subject, "body": body})
    assert response.status_code == 302, text(response)


def reference_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/inquiries/(\d+)"', page)]


def test_staff_list_read_and_answer_inquiries(client_for, staff_client, nayoro, audit_entries):
    citizen = client_for("nayoro")
    send(citizen, "使用量が多い", email="a@example.jp")
    send(citizen, "引越しの手続き", email="b@example.jp")
    operator = staff_client("nayoro", role="operator")
    listing = text(operator.get("/admin/inquiries"))
    assert "未対応は 2 件です。" in listing and "使用量が多い" in listing and "引越しの手続き" in listing
    newest, oldest = reference_ids(listing)
    assert newest > oldest

    detail = text(operator.get(f"/admin/inquiries/{oldest}"))
    assert "a@example.jp" in detail and "ログインせずに送信" in detail
    assert "本文です。\n二行目 &lt;b&gt;太字&lt;/b&gt;" in detail  # escaped, line breaks kept
    response = operator.submit(f"/admin/inquiries/{oldest}/answered", {}, form_page=f"/admin/inquiries/{oldest}")
    answered = text(operator.get(response.headers["Location"]))
    assert re.search(r"Q\d{6} を回答済みにしました。", answered)
    assert "回答済み(" in answered and operator.email in answered and "未対応に戻す" in answered

    assert reference_ids(text(operator.get("/admin/inquiries?status=new"))) == [newest]
    assert reference_ids(text(operator.get("/admin/inquiries?status=answered"))) == [oldest]
    assert reference_ids(text(operator.get("/admin/inquiries"))) == [newest, oldest]

    operator.submit(f"/admin/inquiries/{oldest}/reopen", {}, form_page=f"/admin/inquiries/{oldest}")
    assert "未対応は 2 件です。" in text(operator.get("/admin/inquiries"))
    actions = [(e[0], e[1], e[2], e[4]) for e in audit_entries(nayoro) if e[1].startswith("inquiry.") and e[0].startswith("staff:")]
    assert actions == [
        (f"staff:{operator.staff_id}", "inquiry.answered", f"inquiry:{oldest}", "127.0.0.1"),
        (f"staff:{operator.staff_id}", "inquiry.reopened", f"inquiry:{oldest}", "127.0.0.1"),
    ]


def test_a_bad_status_filter_is_explained_and_ignored(client_for, staff_client):
    send(client_for("nayoro"), "件名")
    page = text(staff_client("nayoro").get("/admin/inquiries?status=closed"))
    assert re.search(r'id="status-error">状態を選択してください。', page)
    assert len(reference_ids(page)) == 1


def test_a_members_inquiry_links_to_the_member(client_for, staff_client, nayoro, make_member):
    member_id = make_member(nayoro, email="taro@example.jp")
    citizen = client_for("nayoro")
    citizen.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
    send(citizen, "会員からの質問", email="taro@example.jp")
    admin = staff_client("nayoro")
    inquiry_id = reference_ids(text(admin.get("/admin/inquiries")))[0]
    assert f'href="/admin/members/{member_id}"' in text(admin.get(f"/admin/inquiries/{inquiry_id}"))


def test_inquiries_stay_in_their_city(client_for, staff_client):
    send(client_for("kanazawa"), "金沢のお問い合わせ")
    kanazawa_id = reference_ids(text(staff_client("kanazawa").get("/admin/inquiries")))[0]
    nayoro_admin = staff_client("nayoro")
    assert "金沢のお問い合わせ" not in text(nayoro_admin.get("/admin/inquiries"))
    assert nayoro_admin.get(f"/admin/inquiries/{kanazawa_id}").status_code == 404
    token = nayoro_admin.csrf_token("/admin/inquiries")
    assert nayoro_admin.post(f"/admin/inquiries/{kanazawa_id}/answered", data={"csrf_token": token}).status_code == 404


def test_the_list_comes_in_pages(app, staff_client, nayoro):
    from waterportal.extensions import db
    from waterportal.inquiries.models import Inquiry
    from waterportal.tenancy.context import tenant_context

    with app.app_context(), tenant_context(nayoro):
        db.session.add_all([Inquiry(name="n", email=f"p{i}@example.jp", category="その他", subject=f"件名{i:02d}",
                                    body="b") for i in range(35)])
        db.session.commit()
    admin = staff_client("nayoro")
    first = text(admin.get("/admin/inquiries"))
    assert "35件、1 / 2ページ" in first and len(reference_ids(first)) == 30 and "件名34" in first
    second = text(admin.get("/admin/inquiries?page=2"))
    assert len(reference_ids(second)) == 5 and "件名00" in second
