"""⑦ 会員登録情報の照会・変更: the overview, nickname, notifications, secret question and
password, in both cities (email change: test_email_change.py)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.mypage.account.conftest import NEW_PASSWORDS, PASSWORD, text
from waterportal.accounts.models import MemberSession
from waterportal.accounts.secret import verify_answer
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context


def test_overview_shows_what_is_registered(tenant, person, logged_in):
    taro = person(tenant)
    client = logged_in(taro)
    response = client.get("/mypage/profile")
    page = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "会員登録情報の照会・変更" in page and "水道太郎" in page and taro.email in page
    assert "受け取る" in page  # both notification mails default to on
    if tenant.login_mode == "login_id":
        assert taro.login_id in page and "ログインIDは変更できません。" in page
        assert "/mypage/profile/secret" in page
    else:
        assert "ログインID" not in page and "/mypage/profile/secret" not in page
    for path in ("/mypage/profile/nickname", "/mypage/profile/email", "/mypage/profile/password",
                 "/mypage/profile/notifications", "/mypage/contracts", "/mypage/withdraw"):
        assert f'href="{path}"' in page


@pytest.mark.parametrize("path", ["/mypage/profile", "/mypage/profile/password", "/mypage/withdraw", "/mypage/contracts"])
def test_pages_need_a_login(client, path, clock):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_change_nickname(tenant, person, logged_in, load_member, audit_actions):
    taro = person(tenant)
    client = logged_in(taro)
    assert 'value="水道太郎"' in text(client.get("/mypage/profile/nickname"))
    response = client.submit("/mypage/profile/nickname", {"nickname": "　すいどう　花子 "})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/profile"
    assert "お名前を変更しました。" in text(client.get("/mypage/profile"))
    assert load_member(taro)["nickname"] == "すいどう 花子"
    assert audit_actions(taro)[-1] == "member.nickname_changed"


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "お名前を入力してください。"), ("　 ", "お名前を入力してください。"), ("あ" * 51, "お名前は50文字以内で入力してください。")],
)
def test_nickname_errors_keep_the_input(tenant, person, logged_in, load_member, value, message):
    taro = person(tenant)
    client = logged_in(taro)
    response = client.submit("/mypage/profile/nickname", {"nickname": value})
    page = text(response)
    assert response.status_code == 200
    assert re.search(r'<p class="error" id="nickname-error">' + re.escape(message), page)
    if value.strip():
        assert f'value="{value}"' in page
    assert load_member(taro)["nickname"] == "水道太郎"


@pytest.mark.parametrize(("value", "message"), [(" \u3000", "お名前を入力してください。"), ("あ" * 51, "お名前は50文字以内で入力してください。")])
def test_change_nickname_service_names_the_right_problem(app, nayoro, person, value, message):
    """Callers other than the form (staff console, CLI) get the message that fits."""
    from waterportal.accounts.models import Member
    from waterportal.mypage.account.errors import ProfileError
    from waterportal.mypage.account.services import change_nickname

    taro = person(nayoro)
    with app.app_context(), tenant_context(nayoro):
        with pytest.raises(ProfileError) as refused:
            change_nickname(db.session.get(Member, taro.member_id), value)
    assert refused.value.messages == [message] and refused.value.field == "nickname"


def test_no_change_without_csrf_or_by_get(tenant, person, logged_in, load_member):
    taro = person(tenant)
    client = logged_in(taro)
    assert client.post("/mypage/profile/nickname", data={"nickname": "攻撃者"}).status_code == 400
    client.get("/mypage/profile/nickname?nickname=攻撃者")
    assert client.get("/mypage/profile/email/resend").status_code == 405
    assert load_member(taro)["nickname"] == "水道太郎"


def test_notification_settings(tenant, person, logged_in, load_member, audit_actions):
    taro = person(tenant)
    client = logged_in(taro)
    form = text(client.get("/mypage/profile/notifications"))
    assert form.count("checked") == 7  # bills, notices, leak and the four kinds of area alert (issue 14 §4)
    kinds = {"alert_outage": "y", "alert_turbid": "y", "alert_works": "y", "alert_other": "y"}
    assert client.submit("/mypage/profile/notifications", {"notify_notices": "y", **kinds}).status_code == 302
    row = load_member(taro)
    assert row["notify_bills"] is False and row["notify_notices"] is True
    page = text(client.get("/mypage/profile"))
    assert "受取設定を変更しました。" in page and "受け取らない" in page
    assert client.submit("/mypage/profile/notifications", {}).status_code == 302
    row = load_member(taro)
    assert row["notify_bills"] is False and row["notify_notices"] is False
    assert audit_actions(taro)[-3:] == ["member.notifications_changed"] * 2 + ["member.alert_mail_changed"]


# --- secret question (login-ID cities) -----------------------------------------------------

def test_secret_question_exists_only_in_login_id_cities(nayoro, person, logged_in):
    client = logged_in(person(nayoro))
    assert client.get("/mypage/profile/secret").status_code == 404


def test_change_secret_question(kanazawa, person, logged_in, load_member, audit_actions):
    taro = person(kanazawa, secret_question="好きな食べ物は?")
    client = logged_in(taro)
    form = text(client.get("/mypage/profile/secret"))
    assert "出身小学校の名前は?" in form and 'selected value="好きな食べ物は?"' in form
    data = {"secret_question": "出身小学校の名前は?", "secret_answer": "みなみしょう", "password": PASSWORD}
    assert client.submit("/mypage/profile/secret", data).status_code == 302
    row = load_member(taro)
    assert row["secret_question"] == "出身小学校の名前は?"
    assert verify_answer(row["secret_answer_hash"], "ﾐﾅﾐｼｮｳ")  # normalised as at registration
    assert audit_actions(taro)[-1] == "member.secret_question_changed"


def test_secret_question_errors(kanazawa, person, logged_in, load_member):
    taro = person(kanazawa, secret_question="好きな食べ物は?")
    client = logged_in(taro)
    empty = text(client.submit("/mypage/profile/secret", {"secret_question": "", "secret_answer": "", "password": ""}))
    assert "秘密の質問を選択してください。" in empty and "秘密の質問の答えを入力してください。" in empty
    assert "現在のパスワードを入力してください。" in empty
    data = {"secret_question": "母親の旧姓は?", "secret_answer": "やまだ", "password": "wrong-password1"}
    wrong = text(client.submit("/mypage/profile/secret", data))
    assert re.search(r'id="password-error">現在のパスワードが正しくありません。', wrong)
    assert 'selected value="母親の旧姓は?"' in wrong  # the choice is kept
    assert "やまだ" not in wrong  # the answer is a secret: never echoed
    forged = text(client.submit("/mypage/profile/secret", {**data, "secret_question": "好きな色は?", "password": PASSWORD}))
    assert "秘密の質問を選択してください。" in forged
    assert load_member(taro)["secret_question"] == "好きな食べ物は?"


# --- password ----------------------------------------------------------------------------------

def test_password_page_shows_the_city_policy(tenant, person, logged_in):
    client = logged_in(person(tenant))
    page = text(client.get("/mypage/profile/password"))
    if tenant.slug == "nayoro":
        assert "半角英数字8文字以上" in page and "アルファベット大文字を含む" in page
    else:
        assert "半角英数字10文字以上" in page and "アルファベット大文字を含む" not in page


def test_password_change_ends_other_sessions_and_keeps_this_one(
    tenant, person, logged_in, client_for, login, outbox, app, audit_actions
):
    taro = person(tenant)
    phone = logged_in(taro)
    laptop = logged_in(taro)
    new = NEW_PASSWORDS[tenant.slug]
    data = {"current_password": PASSWORD, "password": new, "password_confirm": new}
    response = laptop.submit("/mypage/profile/password", data)
    assert response.status_code == 302
    assert "パスワードを変更しました。" in text(laptop.get("/mypage/profile"))
    assert laptop.get("/mypage").status_code == 200  # this session stays
    assert phone.get("/mypage").status_code == 302  # the other one ended
    with app.app_context(), tenant_context(tenant):
        reasons = db.session.scalars(select(MemberSession.end_reason).order_by(MemberSession.id)).all()
    assert reasons == ["password_changed", None]
    notice = outbox(tenant, to=taro.email, kind="password_changed")
    assert len(notice) == 1 and "パスワード変更のお知らせ" in notice[0]["subject"]
    assert audit_actions(taro)[-1] == "password.changed"
    assert login(client_for(tenant.slug), taro).status_code == 200  # the old password fails
    assert login(client_for(tenant.slug), taro, new).status_code == 302


def test_password_change_errors(tenant, person, logged_in, load_member, outbox):
    taro = person(tenant)
    client = logged_in(taro)
    before = load_member(taro)["password_hash"]
    new = NEW_PASSWORDS[tenant.slug]

    wrong = text(client.submit("/mypage/profile/password", {"current_password": "nope-nope-1", "password": new, "password_confirm": new}))
    assert re.search(r'id="current_password-error">現在のパスワードが正しくありません。', wrong)
    mismatch = text(client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": new, "password_confirm": new + "x"}))
    assert "新しいパスワードと確認用のパスワードが一致しません。" in mismatch
    weak = text(client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": "short1", "password_confirm": "short1"}))
    minimum = 8 if tenant.slug == "nayoro" else 10
    assert re.search(rf'id="password-error">パスワードは{minimum}文字以上で入力してください。', weak)
    same = text(client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": PASSWORD, "password_confirm": PASSWORD}))
    assert "現在のパスワードとは異なるパスワードを入力してください。" in same
    empty = text(client.submit("/mypage/profile/password", {}))
    assert "現在のパスワードを入力してください。" in empty and "新しいパスワードを入力してください。" in empty
    for page in (wrong, mismatch, weak, same):
        assert new not in page and PASSWORD not in page  # passwords are never echoed
    assert load_member(taro)["password_hash"] == before
    assert outbox(tenant, kind="password_changed") == []


def test_nayoro_policy_messages_next_to_the_field(nayoro, person, logged_in):
    client = logged_in(person(nayoro))
    page = text(client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": "suidou2026ab", "password_confirm": "suidou2026ab"}))
    assert "アルファベット大文字を含めてください。" in page and "記号(!?#$&amp;()-_)を含めてください。" in page


def test_wrong_current_passwords_are_throttled(tenant, person, logged_in, clock):
    client = logged_in(person(tenant))
    new = NEW_PASSWORDS[tenant.slug]
    for _ in range(5):
        page = text(client.submit("/mypage/profile/password", {"current_password": "wrong-pass-1", "password": new, "password_confirm": new}))
        assert "現在のパスワードが正しくありません。" in page
    page = text(client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": new, "password_confirm": new}))
    assert "パスワードの誤りが続いたため、しばらくの間お手続きできません。" in page
    clock.shift(minutes=15)  # the window slides: the right password works again
    assert client.submit("/mypage/profile/password", {"current_password": PASSWORD, "password": new, "password_confirm": new}).status_code == 302
