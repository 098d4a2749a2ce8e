"""「メールでのお問い合わせ」: the form (anonymous and prefilled for members), what is stored,
the mail to the city and the acknowledgement, the throttle, and that nothing crosses cities."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.registration_support import mails
from tests.smtp import body_of
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.inquiries import services
from waterportal.inquiries.models import Inquiry
from waterportal.tenancy.context import tenant_context

CITIES = ["nayoro", "kanazawa"]
INBOX = {"nayoro": "suido@nayoro.localhost", "kanazawa": "portal@kanazawa.localhost"}


@pytest.fixture(params=CITIES)
def tenant(request, nayoro, kanazawa):
    return {"nayoro": nayoro, "kanazawa": kanazawa}[request.param]


def form_data(**overrides) -> dict:
    data = {
        "name": "水道 花子",
        "email": "hanako@example.jp",
        "customer_number": "",
        "category": "料金・使用量",
        "subject": "先月の使用量について",
        "body": "先月の使用量が\nいつもより多いようです。\n確認をお願いします。",
    }
    data.update(overrides)
    return data


def stored(app, tenant) -> list[dict]:
    with app.app_context(), tenant_context(tenant):
        rows = db.session.scalars(select(Inquiry).order_by(Inquiry.id)).all()
        return [{c.name: getattr(r, c.name) for c in Inquiry.__table__.columns} | {"reference": r.reference} for r in rows]


def text(response) -> str:
    return response.get_data(as_text=True)


def test_every_page_links_to_the_form(client_for, tenant, clock):
    page = text(client_for(tenant.slug).get("/login"))
    assert '<a href="/inquiry">メールでのお問い合わせ</a>' in page


def test_anonymous_inquiry_is_stored_and_both_mails_arrive(app, client_for, tenant, smtp_server, clock):
    client = client_for(tenant.slug)
    form = text(client.get("/inquiry"))
    number = tenant.settings["registration"]["customer_number_label"]  # the city's word
    for label in ("お名前", "メールアドレス", number, "お問い合わせ種別", "件名", "お問い合わせ内容"):
        assert label in form
    for category in ("料金・使用量", "引越し・名義変更", "ポータルサイトの操作", "その他"):
        assert f'value="{category}"' in form
    response = client.submit("/inquiry", form_data(email=" Hanako@Example.JP "))
    assert response.status_code == 302 and response.headers["Location"] == "/inquiry/sent"
    done = text(client.get("/inquiry/sent"))
    [row] = stored(app, tenant)
    assert "お問い合わせを受け付けました" in done and row["reference"] in done
    assert client.get("/inquiry/sent").headers["Location"] == "/inquiry"  # shown once
    assert row["member_id"] is None and row["email"] == "hanako@example.jp" and row["status"] == "new"
    assert row["category"] == "料金・使用量" and row["body"].startswith("先月の使用量が\nいつもより")

    smtp_server.wait_for(2)
    to_city = smtp_server.last_to(INBOX[tenant.slug])
    assert to_city["Subject"] == "【お問い合わせ】料金・使用量: 先月の使用量について"
    city_body = body_of(to_city)
    assert "hanako@example.jp" in city_body and "確認をお願いします。" in city_body and row["reference"] in city_body
    assert "ログインなしで送信" in city_body
    word = tenant.settings["registration"]["customer_number_label"]  # the city's (名寄 お客様番号, 金沢 お客さま番号)
    assert f"\n{word}: " in city_body
    ack = smtp_server.last_to("hanako@example.jp")
    assert ack["Subject"] == f"【{tenant.portal_name}】お問い合わせを受け付けました"
    ack_body = body_of(ack)
    assert row["reference"] in ack_body and "料金・使用量" in ack_body
    # An address nobody verified gets nothing the sender typed (no spam relay).
    assert "先月の使用量" not in ack_body and "花子" not in ack_body


def test_member_form_is_prefilled_and_the_ack_echoes(app, client_for, tenant, make_member, make_contract, smtp_server, clock):
    member_id = make_member(tenant, email="taro@example.jp", login_id="taro0001" if tenant.login_mode == "login_id" else None)
    contract_id = make_contract(tenant)
    with app.app_context(), tenant_context(tenant):
        db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
        db.session.commit()
        number = db.session.get(Contract, contract_id).customer_number
    client = client_for(tenant.slug)
    identifier = "taro0001" if tenant.login_mode == "login_id" else "taro@example.jp"
    assert client.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
    assert text(client.get("/mypage")).count(">メールでのお問い合わせ</a>") == 1
    form = text(client.get("/inquiry"))
    assert 'value="水道太郎"' in form and 'value="taro@example.jp"' in form and f'value="{number}"' in form
    response = client.submit("/inquiry", form_data(name="水道太郎", email="taro@example.jp", customer_number=number, category="引越し・名義変更"))
    assert response.status_code == 302
    [row] = stored(app, tenant)
    assert row["member_id"] == member_id and row["customer_number"] == number
    smtp_server.wait_for(2)
    ack = body_of(smtp_server.last_to("taro@example.jp"))
    assert "水道太郎さま" in ack and "確認をお願いします。" in ack
    assert "ポータル会員" in body_of(smtp_server.last_to(INBOX[tenant.slug]))


def test_errors_are_next_to_their_fields_and_input_is_kept(app, client_for, tenant, clock):
    client = client_for(tenant.slug)
    empty = text(client.submit("/inquiry", {}))
    for field, message in (
        ("name", "お名前を入力してください。"), ("email", "メールアドレスを入力してください。"),
        ("category", "お問い合わせ種別を選択してください。"), ("subject", "件名を入力してください。"),
        ("body", "お問い合わせ内容を入力してください。"),
    ):
        assert re.search(rf'id="{field}-error">{message}', empty), field
    digits = tenant.settings["registration"]["customer_number_digits"]
    bad = text(client.submit("/inquiry", form_data(email="hanako@", customer_number="12-34", category="苦情", subject="件" * 101, body="あ" * 2001)))
    assert "メールアドレスの形式が正しくありません" in bad
    assert f"{tenant.settings['registration']['customer_number_label']}は{digits}桁の数字で入力してください" in bad
    assert "お問い合わせ種別を選択してください。" in bad
    assert "件名は100文字以内で入力してください。" in bad and "お問い合わせ内容は2000文字以内で入力してください。" in bad
    assert 'value="hanako@"' in bad and 'value="12-34"' in bad and "あ" * 2001 in bad
    assert stored(app, tenant) == []
    assert client.post("/inquiry", data=form_data()).status_code == 400  # no CSRF token
    assert stored(app, tenant) == []


def test_subject_is_one_line(app, client_for, nayoro, clock):
    client = client_for("nayoro")
    client.submit("/inquiry", form_data(subject="件名\r\nBcc: spam@example.com"))
    [row] = stored(app, nayoro)
    assert row["subject"] == "件名 Bcc: spam@example.com"
    [to_city] = mails(app, nayoro, to=INBOX["nayoro"])
    assert "\n" not in to_city["subject"]


def test_submissions_are_throttled_per_client(app, client_for, tenant, clock):
    client = client_for(tenant.slug)
    for n in range(5):
        assert client.submit("/inquiry", form_data(email=f"p{n}@example.jp")).status_code == 302
    refused = client.submit("/inquiry", form_data(email="p9@example.jp"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    page = text(refused)
    assert "短時間に多くのお問い合わせが送信されたため" in page and 'value="p9@example.jp"' in page
    assert len(stored(app, tenant)) == 5
    clock.shift(hours=1)
    assert client.submit("/inquiry", form_data(email="p9@example.jp")).status_code == 302


def test_an_inquiry_never_crosses_cities(app, client_for, nayoro, kanazawa, clock):
    client_for("nayoro").submit("/inquiry", form_data())
    [row] = stored(app, nayoro)
    assert stored(app, kanazawa) == []
    assert [m["to"] for m in mails(app, nayoro)] == [INBOX["nayoro"], "hanako@example.jp"]
    assert mails(app, kanazawa) == []
    with app.app_context():
        with tenant_context(kanazawa):
            assert services.get_inquiry(kanazawa, row["id"]) is None
            assert services.list_inquiries(kanazawa) == [] and services.count_new(kanazawa) == 0
        with tenant_context(nayoro):
            assert [i.id for i in services.list_inquiries(nayoro)] == [row["id"]]
    # The same citizen asking Kanazawa too lands in Kanazawa only.
    client_for("kanazawa").submit("/inquiry", form_data())
    assert len(stored(app, kanazawa)) == 1 and len(stored(app, nayoro)) == 1
    assert mails(app, kanazawa)[0]["to"] == INBOX["kanazawa"]


def test_staff_services_mark_answered_and_reopen(app, nayoro, client_for, clock):
    client_for("nayoro").submit("/inquiry", form_data())
    with app.app_context(), tenant_context(nayoro):
        inquiry = services.list_inquiries(nayoro, status="new")[0]
        assert services.count_new(nayoro) == 1 and inquiry.status_label == "未対応"
        services.mark_answered(nayoro, inquiry, actor="staff:1")
        db.session.flush()
        assert inquiry.answered_at is not None and inquiry.answered_by == "staff:1"
        assert services.count_new(nayoro) == 0 and services.list_inquiries(nayoro, status="new") == []
        assert services.list_inquiries(nayoro, status="answered")[0].status_label == "回答済み"
        services.reopen(nayoro, inquiry, actor="staff:1")
        db.session.flush()
        assert services.count_new(nayoro) == 1 and inquiry.answered_at is None


def test_control_characters_are_dropped_not_a_server_error(app, client_for, tenant, clock):
    """A NUL byte (which PostgreSQL refuses in text) or a bell sent by a script is dropped;
    the rest of what was typed, line breaks and tabs included, is stored."""
    client = client_for(tenant.slug)
    response = client.submit("/inquiry", form_data(name="水道\x00 花子", subject="件\x07名", body="一行目\x00\n\t二行目"))
    assert response.status_code == 302, text(response)
    [row] = stored(app, tenant)
    assert (row["name"], row["subject"], row["body"]) == ("水道 花子", "件名", "一行目\n\t二行目")
