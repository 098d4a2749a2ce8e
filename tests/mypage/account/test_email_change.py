"""⑦ メールアドレスの変更: a code to the new address, a notice to the old one, uniqueness per
city without telling whether an address is registered, expiry, resend and cancel."""
from __future__ import annotations

import re

from tests.mypage.account.conftest import PASSWORD, text
from tests.registration_support import page as body

NEW = "hanako@example.jp"


def code_in(mail: dict) -> str:
    match = re.search(r"認証コード: (\d{6})", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def ask(client, email=NEW, password=PASSWORD):
    return client.submit("/mypage/profile/email", {"email": email, "password": password})


def enter(client, code):
    # The token comes from the email page: the verify page itself redirects when nothing is pending.
    return client.submit("/mypage/profile/email/verify", {"code": code}, form_page="/mypage/profile/email")


def test_change_email_with_a_code(tenant, person, logged_in, outbox, load_member, audit_actions, client_for, login):
    taro = person(tenant)
    client = logged_in(taro)
    response = ask(client, "  Hanako@Example.JP ")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/profile/email/verify"
    verify_page = text(client.get("/mypage/profile/email/verify"))
    assert f"{NEW} 宛に認証コードを送信しました。" in verify_page and "有効時間は30分" in verify_page
    overview = text(client.get("/mypage/profile"))
    assert f"{NEW} に変更する手続きの途中です" in overview
    assert load_member(taro)["email"] == taro.email  # nothing changes before the code

    mail = outbox(tenant, to=NEW, kind="email_change_code")
    assert len(mail) == 1 and "メールアドレス変更の認証コード" in mail[0]["subject"]
    code = code_in(mail[0])
    wrong = "000000" if code != "000000" else "111111"
    failed = text(enter(client, wrong))
    assert re.search(r'id="code-error">認証コードが正しくありません。.*あと4回', failed)

    done = enter(client, code)
    assert done.status_code == 302 and done.headers["Location"] == "/mypage/profile"
    page = text(client.get("/mypage/profile"))
    assert "メールアドレスを変更しました。" in page and NEW in page
    assert load_member(taro)["email"] == NEW

    notice = outbox(tenant, to=taro.email, kind="email_changed_notice")
    assert len(notice) == 1
    assert "h***@example.jp" in notice[0]["body"] and NEW not in notice[0]["body"]
    assert audit_actions(taro)[-2:] == ["member.email_change_requested", "member.email_changed"]
    assert client.get("/mypage/profile/email/verify").headers["Location"] == "/mypage/profile/email"  # nothing pending
    assert enter(client, code).status_code == 302  # a used code changes nothing again

    if tenant.login_mode == "email":  # the address is the login in email cities
        client.submit("/logout", {}, form_page="/mypage")
        assert login(client_for(tenant.slug), taro).status_code == 200
        fresh = client_for(tenant.slug)
        assert fresh.submit("/login", {"identifier": NEW, "password": PASSWORD}).status_code == 302


def test_email_form_errors_keep_the_input(tenant, person, logged_in, outbox):
    taro = person(tenant)
    client = logged_in(taro)
    empty = text(ask(client, "", ""))
    assert "新しいメールアドレスを入力してください。" in empty and "現在のパスワードを入力してください。" in empty
    malformed = text(ask(client, "hanako@@example"))
    assert "メールアドレスの形式が正しくありません" in malformed and 'value="hanako@@example"' in malformed
    wrong = text(ask(client, NEW, "not-my-password1"))
    assert re.search(r'id="password-error">現在のパスワードが正しくありません。', wrong)
    assert f'value="{NEW}"' in wrong and "not-my-password1" not in wrong
    same = text(ask(client, taro.email.upper()))
    assert "現在ご登録のメールアドレスと同じです。" in same
    assert outbox(tenant, kind="email_change_code") == []


def test_an_address_taken_in_the_city_looks_the_same_and_gets_a_notice(tenant, person, logged_in, outbox, load_member):
    taro = person(tenant)
    hanako = person(tenant, email=NEW)
    client = logged_in(taro)
    response = ask(client, NEW)
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/profile/email/verify"
    assert f"{NEW} 宛に認証コードを送信しました。" in text(client.get("/mypage/profile/email/verify"))
    assert outbox(tenant, kind="email_change_code") == []  # no code reaches anyone
    notice = outbox(tenant, to=NEW, kind="email_change_taken")
    assert len(notice) == 1 and "既に会員登録されているため、変更できません" in notice[0]["body"]
    assert not re.search(r"\d{6}", notice[0]["body"].split("―")[0])
    for guess in ("123456", "654321"):
        assert "認証コードが正しくありません" in text(enter(client, guess))
    assert load_member(taro)["email"] == taro.email and load_member(hanako)["email"] == NEW


def test_uniqueness_is_per_city(nayoro, kanazawa, person, logged_in, outbox, load_member):
    person(kanazawa, email=NEW)  # the same address in the other city does not count
    taro = person(nayoro)
    client = logged_in(taro)
    ask(client, NEW)
    code = code_in(outbox(nayoro, to=NEW, kind="email_change_code")[0])
    assert enter(client, code).status_code == 302
    assert load_member(taro)["email"] == NEW
    assert outbox(kanazawa) == []


def test_the_code_expires(tenant, person, logged_in, outbox, load_member, clock):
    taro = person(tenant)
    client = logged_in(taro)
    ask(client)
    code = code_in(outbox(tenant, to=NEW, kind="email_change_code")[0])
    clock.shift(minutes=15)
    client.get("/mypage/profile")  # keeps the session alive (Kanazawa logs out after 20 idle minutes)
    clock.shift(minutes=15)
    expired = text(enter(client, code))
    assert "認証コードの有効期限(30分)が切れています。" in expired
    assert load_member(taro)["email"] == taro.email
    assert "手続きの途中です" not in text(client.get("/mypage/profile"))


def test_resend_and_cancel(tenant, person, logged_in, outbox, load_member, clock):
    taro = person(tenant)
    client = logged_in(taro)
    ask(client)
    first = code_in(outbox(tenant, to=NEW, kind="email_change_code")[0])
    too_soon = client.submit("/mypage/profile/email/resend", {}, form_page="/mypage/profile/email/verify")
    assert too_soon.headers["Location"] == "/mypage/profile/email/verify"
    assert "再送信は" in text(client.get("/mypage/profile/email/verify"))
    clock.shift(seconds=61)
    resent = client.submit("/mypage/profile/email/resend", {}, form_page="/mypage/profile/email/verify")
    assert resent.status_code == 302
    codes = outbox(tenant, to=NEW, kind="email_change_code")
    assert len(codes) == 2
    second = code_in(codes[1])
    if first != second:
        assert "認証コードが正しくありません" in text(enter(client, first))  # only the newest code counts

    cancelled = client.submit("/mypage/profile/email/cancel", {}, form_page="/mypage/profile/email/verify")
    assert cancelled.headers["Location"] == "/mypage/profile"
    assert "メールアドレスの変更を中止しました。" in text(client.get("/mypage/profile"))
    assert client.get("/mypage/profile/email/verify").headers["Location"] == "/mypage/profile/email"
    assert enter(client, second).status_code == 302  # nothing pending: back to the start
    assert load_member(taro)["email"] == taro.email


def test_a_newer_request_replaces_an_older_one(tenant, person, logged_in, outbox, load_member):
    taro = person(tenant)
    client = logged_in(taro)
    ask(client, "first@example.jp")
    ask(client, NEW)
    first = code_in(outbox(tenant, to="first@example.jp", kind="email_change_code")[0])
    second = code_in(outbox(tenant, to=NEW, kind="email_change_code")[0])
    assert NEW in text(client.get("/mypage/profile/email/verify"))
    if first != second:
        assert "認証コードが正しくありません" in text(enter(client, first))
    assert enter(client, second).status_code == 302
    assert load_member(taro)["email"] == NEW


def test_one_member_cannot_mail_many_addresses(tenant, person, logged_in, outbox):
    client = logged_in(person(tenant))
    for n in range(10):
        assert ask(client, f"someone{n}@example.jp").status_code == 302
    refused = ask(client, "someone10@example.jp")
    assert refused.status_code == 200 and "認証コードの送信回数が上限に達しました。" in body(refused)
    assert len(outbox(tenant, kind="email_change_code")) == 10
