"""⑧ 退会のお手続き: explained, confirmed with the password, everything of the member deleted
in one go (the city's data stays), a mail, no login afterwards, and registering again works."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.mypage.account.conftest import PASSWORD, text
from tests.registration_support import PASSWORDS, PHONES, Registration
from waterportal.accounts.models import Member, MemberSession, VerificationCode
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.accounts.views import INVALID_LOGIN
from waterportal.audit.models import AuditEntry
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.inquiries.models import Inquiry
from waterportal.tenancy.context import tenant_context

EMAIL = "taro@example.jp"


def withdraw(client, password=PASSWORD, confirm=True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return client.submit("/mypage/withdraw", data)


def counts(app, tenant) -> dict[str, int]:
    with app.app_context(), tenant_context(tenant):
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Member, MemberContract, MemberSession, VerificationCode, Contract, Bill, Inquiry, RegistrationDraft)
        }


def add_bill(app, tenant, contract_id):
    with app.app_context(), tenant_context(tenant):
        db.session.add(Bill(
            contract_id=contract_id, billing_month="2026-05", period_start=dt.date(2026, 4, 1),
            period_end=dt.date(2026, 4, 30), reading_date=dt.date(2026, 5, 1), previous_reading=100,
            current_reading=120, usage_m3=20, water_charge=3000, sewer_charge=2500, tax=500, total=5500,
            due_date=dt.date(2026, 5, 31),
        ))
        db.session.commit()


def test_the_page_explains_what_goes_and_what_stays(tenant, person, logged_in):
    taro = person(tenant, contracts=2)
    page = text(logged_in(taro).get("/mypage/withdraw"))
    assert "削除されるもの" in page and "削除されないもの" in page
    assert "使用量や料金などのデータ" in page and "もう一度会員登録" in page
    assert all(number in page for number in taro.numbers)
    assert f"ご登録のメールアドレス({taro.email})" in page


def test_withdrawal_errors_change_nothing(tenant, person, logged_in, load_member, outbox):
    taro = person(tenant)
    client = logged_in(taro)
    unconfirmed = text(withdraw(client, confirm=False))
    assert "「上記の内容を確認し、退会します」にチェックを入れてください。" in unconfirmed
    wrong = text(withdraw(client, password="wrong-password-9"))
    assert 'id="password-error">現在のパスワードが正しくありません。' in wrong
    empty = text(withdraw(client, password=""))
    assert "現在のパスワードを入力してください。" in empty
    assert load_member(taro) is not None
    assert client.get("/mypage").status_code == 200
    assert outbox(tenant, kind="withdrawn") == []


def test_withdraw_and_register_again(tenant, app, client_for, make_contract, outbox, clock):
    contract_id = make_contract(tenant, phone=PHONES[tenant.slug])
    with app.app_context(), tenant_context(tenant):
        number = db.session.get(Contract, contract_id).customer_number
    add_bill(app, tenant, contract_id)
    Registration(app, client_for(tenant.slug), tenant).complete(EMAIL, number)
    identifier = "taro_suido" if tenant.login_mode == "login_id" else EMAIL
    password = PASSWORDS[tenant.slug]

    def log_in(client):
        return client.submit("/login", {"identifier": identifier, "password": password})

    client, other = client_for(tenant.slug), client_for(tenant.slug)
    assert log_in(client).status_code == 302 and log_in(other).status_code == 302
    sent = client.submit("/inquiry", {"name": "水道太郎", "email": EMAIL, "category": "その他", "subject": "件名", "body": "本文"})
    assert sent.status_code == 302
    client.submit("/mypage/profile/email", {"email": "new@example.jp", "password": password})  # a pending code
    before = counts(app, tenant)
    assert before["Member"] == 1 and before["MemberSession"] == 2 and before["VerificationCode"] == 2

    response = client.submit("/mypage/withdraw", {"password": password, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/withdrawn"
    done = text(client.get("/mypage/withdrawn"))
    assert "退会のお手続きが完了しました" in done
    assert client.get("/mypage/withdrawn").headers["Location"] == "/login"  # shown once

    after = counts(app, tenant)
    assert after["Member"] == after["MemberContract"] == after["MemberSession"] == 0
    assert after["VerificationCode"] == 1  # only the registration code, which names no member
    assert after["Contract"] == 1 and after["Bill"] == 1  # the city's data stays
    assert after["Inquiry"] == 1
    with app.app_context(), tenant_context(tenant):
        assert db.session.scalar(select(Inquiry.member_id)) is None
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-1] == "member.withdrawn"

    mail = outbox(tenant, to=EMAIL, kind="withdrawn")
    assert len(mail) == 1 and "退会のお手続き完了のお知らせ" in mail[0]["subject"]
    assert "/register/" in mail[0]["body"]
    if tenant.login_mode == "login_id":
        assert "ログインID: taro_suido" in mail[0]["body"]

    for browser in (client, other):
        assert browser.get("/mypage").status_code == 302
    refused = log_in(client_for(tenant.slug))
    assert refused.status_code == 200 and str(INVALID_LOGIN[tenant.login_mode]) in text(refused)
    unknown = client_for(tenant.slug).submit("/login", {"identifier": "nobody_here", "password": password})
    assert str(INVALID_LOGIN[tenant.login_mode]) in text(unknown)

    clock.shift(minutes=2)  # past the registration code's resend interval for this address
    again = Registration(app, client_for(tenant.slug), tenant).complete(EMAIL, number)
    assert again.status_code == 200
    fresh = client_for(tenant.slug)
    assert log_in(fresh).status_code == 302
    assert number in text(fresh.get("/mypage/contracts"))


def test_withdrawal_touches_only_this_member(tenant, person, logged_in, load_member, app):
    taro = person(tenant)
    hanako = person(tenant, email="hanako@example.jp")
    with app.app_context(), tenant_context(tenant):  # the family shares taro's contract
        db.session.add(MemberContract(member_id=hanako.member_id, contract_id=taro.contract_ids[0]))
        db.session.commit()
    hanako_client = logged_in(hanako)
    assert withdraw(logged_in(taro)).status_code == 302
    assert load_member(taro) is None and load_member(hanako) is not None
    assert hanako_client.get("/mypage").status_code == 200
    assert taro.numbers[0] in text(hanako_client.get("/mypage/contracts"))


def test_same_person_in_the_other_city_stays(nayoro, kanazawa, person, logged_in, load_member):
    nayoro_taro = person(nayoro)
    kanazawa_taro = person(kanazawa)
    kanazawa_client = logged_in(kanazawa_taro)
    assert withdraw(logged_in(nayoro_taro)).status_code == 302
    assert load_member(nayoro_taro) is None
    assert load_member(kanazawa_taro) is not None
    assert kanazawa_client.get("/mypage").status_code == 200
