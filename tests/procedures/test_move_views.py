"""各種お手続き through the browser's eyes, in both cities: the menu, 使用開始 by a visitor
(email code first, errors at their fields with the input kept, the receipt), 使用中止 by a
member for a linked contract, the member's list and detail with the status history, the
resubmit form after 差戻し, withdrawal, files only for their owner, and no-store."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.registration_support import latest_code, mails
from waterportal.accounts.models import Member
from waterportal.contracts.services import link_contract
from waterportal.extensions import db
from waterportal.procedures import services
from waterportal.procedures.models import ProcedureAttachment, ProcedureRequest
from waterportal.tenancy.context import tenant_context

CITIES = ["nayoro", "kanazawa"]
PASSWORDS = {"nayoro": "Suido#2026ab", "kanazawa": "kanazawa2026x"}
MOVE_IN = {
    "address": "西4条南1丁目1番地", "building": "", "room": "", "start_date": "2026-11-25", "name": "水道 花子",
    "name_kana": "スイドウ ハナコ", "phone": "09012345678", "persons": "3", "billing_address": "",
    "payment": "口座振替", "remarks": "",
}
MOVE_OUT = {"stop_date": "2026-11-30", "final_address": "札幌市中央区北1条西2丁目",
            "final_payment": "転居先に納付書を送ってもらう", "contact_phone": "09012345678", "meter_access": ""}


@pytest.fixture(params=CITIES)
def tenant(request, nayoro, kanazawa):
    return {"nayoro": nayoro, "kanazawa": kanazawa}[request.param]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def member_client(app, client_for, tenant, make_member, make_contract):
    """A logged-in member of the city with one linked contract: (client, member_id, contract_id)."""
    login_id = "suido0001" if tenant.login_mode == "login_id" else None
    member_id = make_member(tenant, email="taro@example.jp", login_id=login_id, password=PASSWORDS[tenant.slug],
                            **({"secret_question": "好きな食べ物は?"} if login_id else {}))
    contract_id = make_contract(tenant)
    with app.app_context(), tenant_context(tenant):
        link_contract(tenant, member_id, contract_id)
        db.session.commit()
    client = client_for(tenant.slug)
    response = client.submit("/login", {"identifier": login_id or "taro@example.jp", "password": PASSWORDS[tenant.slug]})
    assert response.status_code == 302, text(response)
    return client, member_id, contract_id


def verified_visitor(app, client, tenant, email="hanako@example.jp"):
    """A visitor who proved ``email`` with the mailed code (on the 使用開始 page)."""
    page = client.get("/procedures/new/move_in")
    assert page.status_code == 200 and "認証コードを送信" in text(page)
    assert page.headers["Cache-Control"].startswith("no-store")
    sent = client.submit("/procedures/new/move_in", {"action": "send", "email": email})
    assert sent.status_code == 302
    code = latest_code(app, tenant, email)
    assert "各種お手続きの画面" in mails(app, tenant, to=email, kind="verification_code")[-1]["body"]
    verified = client.submit("/procedures/new/move_in", {"action": "verify", "code": code})
    assert verified.status_code == 302
    return client


def test_the_menu_lists_the_citys_procedures_for_visitors_and_members(client_for, tenant, member_client):
    page = text(client_for(tenant.slug).get("/procedures/"))
    assert "水道の使用開始" in page and "水道の使用中止" in page
    assert ("ペーパーレス" in page) == (tenant.slug == "nayoro")
    client, _, _ = member_client
    dashboard = text(client.get("/mypage"))
    assert 'href="/procedures/"' in dashboard


def test_a_visitor_files_move_in_after_the_email_code(app, client_for, tenant):
    client = verified_visitor(app, client_for(tenant.slug), tenant)
    form = client.get("/procedures/new/move_in")
    page = text(form)
    assert form.status_code == 200 and "hanako@example.jp" in page
    for label in ("使用場所の住所", "使用開始日", "契約者のお名前(フリガナ)", "世帯人数", "お支払い方法のご希望"):
        assert label in page
    assert "2026年11月24日(火)から" in page  # the window is named before anything is typed

    refused = client.submit("/procedures/new/move_in", {**MOVE_IN, "start_date": "2026-11-21", "persons": "abc"})
    body = text(refused)
    assert refused.status_code == 422
    assert re.search(r'id="f-start_date-error">2026年11月24日\(火\)から', body)
    assert "世帯人数は数字で入力してください。" in body or "世帯人数は1から20までの数字で入力してください。" in body
    assert 'value="西4条南1丁目1番地"' in body and 'value="スイドウ ハナコ"' in body  # nothing typed is lost

    done = client.submit("/procedures/new/move_in", MOVE_IN)
    assert done.status_code == 302 and done.headers["Location"].endswith("/procedures/receipt")
    receipt = client.get("/procedures/receipt")
    assert receipt.headers["Cache-Control"].startswith("no-store")
    assert "R2026-000001" in text(receipt) and "西4条南1丁目1番地" in text(receipt)
    ack = mails(app, tenant, to="hanako@example.jp", kind="procedure_received")
    assert len(ack) == 1 and "R2026-000001" in ack[0]["body"]


def test_the_receipt_is_not_shown_to_the_next_person_at_a_shared_computer(app, client_for, tenant, clock):
    """Once the verified address's minutes are over, the browser's last filing is no longer
    shown (the receipt mail keeps the number)."""
    client = verified_visitor(app, client_for(tenant.slug), tenant)
    assert client.submit("/procedures/new/move_in", MOVE_IN).status_code == 302
    assert "R2026-000001" in text(client.get("/procedures/receipt"))
    clock.shift(minutes=121)
    later = client.get("/procedures/receipt")
    assert later.status_code == 302 and "R2026-000001" not in later.get_data(as_text=True)


def test_a_visitor_cannot_skip_the_code_or_file_a_member_only_kind(app, client_for, tenant):
    client = client_for(tenant.slug)
    skipped = client.submit("/procedures/new/move_in", MOVE_IN, form_page="/procedures/new/move_in")
    assert skipped.status_code == 422 and "認証コード" in text(skipped)
    wrong = client.submit("/procedures/new/move_in", {"action": "send", "email": "a@example.jp"})
    assert wrong.status_code == 302
    bad = client.submit("/procedures/new/move_in", {"action": "verify", "code": "000000"})
    assert bad.status_code == 422 and "認証コードが正しくありません" in text(bad)
    login = client.get("/procedures/new/holder_change")
    assert login.status_code == 302 and "/login" in login.headers["Location"]
    with app.app_context(), tenant_context(tenant):
        assert db.session.scalar(select(ProcedureRequest.id)) is None
    assert client.get("/procedures/new/no_such_kind").status_code == 404


def test_a_member_files_move_out_and_follows_it_to_completed(app, tenant, member_client):
    client, member_id, contract_id = member_client
    form = text(client.get("/procedures/new/move_out"))
    assert 'name="contract_id"' in form and 'name="registered_phone"' not in form
    done = client.submit("/procedures/new/move_out", {**MOVE_OUT, "contract_id": str(contract_id)})
    assert done.status_code == 302, text(done)
    with app.app_context(), tenant_context(tenant):
        filed = db.session.scalar(select(ProcedureRequest))
        assert (filed.member_id, filed.contract_id, filed.kind) == (member_id, contract_id, "move_out")
        number = filed.receipt_number
        services.change_status(tenant, filed, "returned", "転居先の住所を番地まで入力してください。", "staff:1")
        db.session.commit()
    listing = client.get("/procedures/")
    assert number in text(listing) and "差戻し" in text(listing)
    detail = client.get(f"/procedures/{number}")
    page = text(detail)
    assert detail.headers["Cache-Control"].startswith("no-store")
    assert "転居先の住所を番地まで入力してください。" in page and "再提出する" in page
    assert 'value="札幌市中央区北1条西2丁目"' in page  # the form starts from what was filed

    refused = client.submit(f"/procedures/{number}", {**MOVE_OUT, "stop_date": "2026-11-19"})
    assert refused.status_code == 422 and 'id="f-stop_date-error"' in text(refused)
    again = client.submit(f"/procedures/{number}", {**MOVE_OUT, "final_address": "札幌市中央区北1条西2丁目3番地",
                                                     "resubmit_message": "番地を追加しました。"})
    assert again.status_code == 302
    with app.app_context(), tenant_context(tenant):
        filed = db.session.scalar(select(ProcedureRequest))
        assert filed.status == "received" and filed.payload["final_address"].endswith("3番地")
        services.change_status(tenant, filed, "completed", "閉栓しました。", "staff:1")
        db.session.commit()
    page = text(client.get(f"/procedures/{number}"))
    assert "完了" in page and "閉栓しました。" in page and "番地を追加しました。" in page
    assert "再提出する" not in page and "取り下げる" not in page
    status_mails = mails(app, tenant, to="taro@example.jp", kind="procedure_status")
    assert [("差戻し" in m["subject"], "完了" in m["subject"]) for m in status_mails] == [(True, False), (False, True)]


def test_a_member_withdraws_and_nobody_else_sees_the_request_or_its_files(app, client_for, tenant, member_client,
                                                                          make_member):
    client, member_id, contract_id = member_client
    with app.app_context(), tenant_context(tenant):
        member = db.session.get(Member, member_id)
        filed = services.submit_procedure(tenant, "move_in", MOVE_IN, member=member)
        db.session.add(ProcedureAttachment(request_id=filed.id, filename="写真.pdf", content_type="application/pdf",
                                           size=9, sha256="0" * 64, data=b"%PDF-1.4\n"))
        db.session.commit()
        number, file_id = filed.receipt_number, db.session.scalar(select(ProcedureAttachment.id))
    download = client.get(f"/procedures/{number}/files/{file_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4\n"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"].startswith("no-store")

    other_login = "suido0002" if tenant.login_mode == "login_id" else None
    make_member(tenant, email="jiro@example.jp", login_id=other_login, password=PASSWORDS[tenant.slug],
                **({"secret_question": "好きな食べ物は?"} if other_login else {}))
    other = client_for(tenant.slug)
    other.submit("/login", {"identifier": other_login or "jiro@example.jp", "password": PASSWORDS[tenant.slug]})
    assert other.get(f"/procedures/{number}").status_code == 404
    assert other.get(f"/procedures/{number}/files/{file_id}").status_code == 404
    assert other.submit(f"/procedures/{number}/withdraw", {}, form_page="/inquiry").status_code == 404
    assert client_for(tenant.slug).get(f"/procedures/{number}/files/{file_id}").status_code == 404

    withdrawn = client.submit(f"/procedures/{number}/withdraw", {}, form_page=f"/procedures/{number}")
    assert withdrawn.status_code == 302
    assert "取下げ" in text(client.get(f"/procedures/{number}"))


def test_a_request_of_one_city_is_not_found_in_the_other(app, client_for, nayoro, kanazawa, make_member):
    member_id = make_member(nayoro, email="taro@example.jp", password=PASSWORDS["nayoro"])
    with app.app_context(), tenant_context(nayoro):
        filed = services.submit_procedure(nayoro, "move_in", MOVE_IN, member=db.session.get(Member, member_id))
        db.session.commit()
        number = filed.receipt_number
    make_member(kanazawa, email="taro@example.jp", login_id="suido0001", password=PASSWORDS["kanazawa"],
                secret_question="好きな食べ物は?")
    client = client_for("kanazawa")
    client.submit("/login", {"identifier": "suido0001", "password": PASSWORDS["kanazawa"]})
    assert client.get(f"/procedures/{number}").status_code == 404


def test_a_visitor_stops_water_by_customer_number_phone_and_kana(app, client_for, tenant, make_contract):
    phone = {"nayoro": "0165432111", "kanazawa": "0762202111"}[tenant.slug]
    contract_id = make_contract(tenant, phone=phone)
    with app.app_context(), tenant_context(tenant):
        from waterportal.contracts.models import Contract

        number = db.session.get(Contract, contract_id).customer_number
    client = client_for(tenant.slug)
    assert client.submit("/procedures/new/move_out", {"action": "send", "email": "jiro@example.jp"}).status_code == 302
    client.submit("/procedures/new/move_out", {"action": "verify", "code": latest_code(app, tenant, "jiro@example.jp")})
    form = text(client.get("/procedures/new/move_out"))
    assert 'name="registered_phone"' in form and 'name="contract_id"' not in form
    identity = {"customer_number": number, "registered_phone": phone, "holder_kana": "スイドウタロウ"}
    wrong = client.submit("/procedures/new/move_out", {**MOVE_OUT, **identity, "holder_kana": "ベツジン"})
    body = text(wrong)
    assert wrong.status_code == 422 and "・お客様氏名カナが登録内容と一致しません。" in body
    assert f'value="{number}"' in body and 'value="札幌市中央区北1条西2丁目"' in body
    done = client.submit("/procedures/new/move_out", {**MOVE_OUT, **identity})
    assert done.status_code == 302
    receipt = text(client.get("/procedures/receipt"))
    assert "R2026-000001" in receipt and "使用中止日" in receipt and phone not in receipt
    with app.app_context(), tenant_context(tenant):
        filed = db.session.scalar(select(ProcedureRequest))
        assert (filed.member_id, filed.contract_id, filed.applicant_email) == (None, contract_id, "jiro@example.jp")


def test_a_member_without_a_linked_contract_identifies_it_and_a_visitor_may_change_address(
        app, client_for, tenant, make_member, make_contract):
    phone = {"nayoro": "0165432111", "kanazawa": "0762202111"}[tenant.slug]
    contract_id = make_contract(tenant, phone=phone)
    login_id = "suido0003" if tenant.login_mode == "login_id" else None
    make_member(tenant, email="saburo@example.jp", login_id=login_id, password=PASSWORDS[tenant.slug],
                **({"secret_question": "好きな食べ物は?"} if login_id else {}))
    member = client_for(tenant.slug)
    member.submit("/login", {"identifier": login_id or "saburo@example.jp", "password": PASSWORDS[tenant.slug]})
    form = text(member.get("/procedures/new/move_out"))
    assert 'name="registered_phone"' in form and 'name="contract_id"' not in form
    with app.app_context(), tenant_context(tenant):
        from waterportal.contracts.models import Contract

        number = db.session.get(Contract, contract_id).customer_number
    done = member.submit("/procedures/new/move_out", {**MOVE_OUT, "customer_number": number,
                                                       "registered_phone": phone, "holder_kana": "スイドウタロウ"})
    assert done.status_code == 302, text(done)

    visitor = verified_visitor(app, client_for(tenant.slug), tenant)
    assert "メールアドレスを変更する" in text(visitor.get("/procedures/new/move_in"))
    assert visitor.submit("/procedures/start-over", {}, form_page="/procedures/new/move_in").status_code == 302
    assert "認証コードを送信" in text(visitor.get("/procedures/new/move_in"))


def test_every_page_leads_visitors_to_the_procedures(client_for, tenant):
    page = text(client_for(tenant.slug).get("/login"))
    assert '<a href="/procedures/">引越し・各種お手続き</a>' in page


def test_a_second_code_within_the_resend_interval_is_refused_with_the_wait_named(app, client_for, tenant):
    client = client_for(tenant.slug)
    assert client.submit("/procedures/new/move_in", {"action": "send", "email": "a@example.jp"}).status_code == 302
    again = client.submit("/procedures/new/move_in", {"action": "send", "email": "a@example.jp"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    assert "認証コードは送信済みです。再送信は" in text(again) and 'value="a@example.jp"' in text(again)
    bad = client.submit("/procedures/new/move_in", {"action": "send", "email": "not-an-address"})
    assert bad.status_code == 422 and "メールアドレスの形式が正しくありません" in text(bad)
    assert len(mails(app, tenant, to="a@example.jp", kind="verification_code")) == 1


def test_a_visitor_follows_and_resubmits_a_request_filed_without_an_account(app, client_for, tenant, clock):
    filer = verified_visitor(app, client_for(tenant.slug), tenant, email="hanako@example.jp")
    assert filer.submit("/procedures/new/move_in", MOVE_IN).status_code == 302
    with app.app_context(), tenant_context(tenant):
        filed = db.session.scalar(select(ProcedureRequest))
        number = filed.receipt_number
        services.change_status(tenant, filed, "returned", "部屋番号を入力してください。", "staff:1")
        db.session.commit()
    status_mail = mails(app, tenant, to="hanako@example.jp", kind="procedure_status")[-1]["body"]
    assert f"/procedures/{number}" in status_mail and "認証コードを入力してください" in status_mail

    # Another browser (the citizen's phone): the address first, then the request.
    later = client_for(tenant.slug)
    asked = later.get(f"/procedures/{number}")
    assert asked.status_code == 200 and "お申込みの状況の確認" in text(asked) and "部屋番号" not in text(asked)
    clock.shift(minutes=5)
    assert later.submit(f"/procedures/{number}", {"action": "send", "email": "hanako@example.jp"}).status_code == 302
    code = latest_code(app, tenant, "hanako@example.jp")
    assert later.submit(f"/procedures/{number}", {"action": "verify", "code": code}).headers["Location"] \
        .endswith(f"/procedures/{number}")
    page = later.get(f"/procedures/{number}")
    assert page.status_code == 200 and "部屋番号を入力してください。" in text(page) and "再提出する" in text(page)
    again = later.submit(f"/procedures/{number}", {**MOVE_IN, "room": "101"})
    assert again.status_code == 302
    with app.app_context(), tenant_context(tenant):
        filed = db.session.scalar(select(ProcedureRequest))
        assert (filed.status, filed.payload["room"]) == ("received", "101")
    assert later.submit(f"/procedures/{number}/withdraw", {}, form_page=f"/procedures/{number}").status_code == 302
    assert "取下げ" in text(later.get(f"/procedures/{number}"))

    # Someone who verified another address sees nothing of it.
    stranger = verified_visitor(app, client_for(tenant.slug), tenant, email="stranger@example.jp")
    assert stranger.get(f"/procedures/{number}").status_code == 404
    assert stranger.submit(f"/procedures/{number}/withdraw", {}, form_page="/inquiry").status_code == 404
