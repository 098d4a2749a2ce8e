"""Staff login: password policy, throttling, idle timeout, TOTP, one-time passwords, logout."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from tests.admin.conftest import STAFF_PASSWORD, login_staff
from waterportal.admin.models import StaffMember, StaffSession
from waterportal.core.auth import secret_box
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def staff_row(app, tenant, staff_id):
    with app.app_context(), tenant_context(tenant):
        staff = db.session.get(StaffMember, staff_id)
        db.session.expunge(staff)
        return staff


def stored_secret(app, tenant, staff_id):
    """The staff member's TOTP secret, opened as the app opens it (the column holds a Fernet token)."""
    sealed = staff_row(app, tenant, staff_id).totp_secret
    with app.app_context():
        return secret_box.unseal(sealed) if sealed else None


def test_login_opens_the_console_and_is_audited(client_for, kanazawa, make_staff, audit_entries):
    staff_id = make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    client = client_for("kanazawa")
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")
    response = login_staff(client, "KANRI@kanazawa.example.jp ")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "管理画面トップ" in page and "水道 管理さん(管理者)" in page
    with client.session_transaction(base_url="http://kanazawa.localhost") as session:
        assert "staff" in session and "_user_id" not in session  # never a citizen login
    assert audit_entries(kanazawa, "staff.login") == [
        (f"staff:{staff_id}", "staff.login", "kanri@kanazawa.example.jp", {}, "127.0.0.1")
    ]


def test_wrong_password_is_refused_in_japanese_with_the_email_kept(client_for, kanazawa, make_staff, audit_entries):
    staff_id = make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    client = client_for("kanazawa")
    response = login_staff(client, "kanri@kanazawa.example.jp", "Wrong-Pass-2026!")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません。" in body
    assert 'value="kanri@kanazawa.example.jp"' in body and "Wrong-Pass-2026!" not in body
    assert client.get("/admin/").status_code == 302
    entries = audit_entries(kanazawa, "staff.login_failed")
    assert [(e[0], e[2], e[3]) for e in entries] == [(f"staff:{staff_id}", "kanri@kanazawa.example.jp", {"reason": "password"})]


def test_unknown_email_fails_the_same_way_and_is_audited_as_anonymous(client_for, kanazawa, audit_entries):
    body = login_staff(client_for("kanazawa"), "nobody@kanazawa.example.jp").get_data(as_text=True)
    assert "メールアドレスまたはパスワードが正しくありません。" in body
    assert audit_entries(kanazawa, "staff.login_failed")[0][:3] == ("anonymous", "staff.login_failed", "nobody@kanazawa.example.jp")


def test_empty_and_malformed_fields_are_named_next_to_each_field(client_for):
    client = client_for("nayoro")
    body = client.submit("/admin/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert re.search(r'id="email-error">メールアドレスを入力してください。', body)
    assert re.search(r'id="password-error">パスワードを入力してください。', body)
    body = client.submit("/admin/login", {"email": "kanri", "password": "x"}).get_data(as_text=True)
    assert "メールアドレスの形式が正しくありません。" in body and 'value="kanri"' in body


def test_failures_are_throttled_even_for_the_right_password_then_clear(client_for, kanazawa, make_staff):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(5):
            assert login_staff(client, "kanri@kanazawa.example.jp", "Wrong-Pass-2026!").status_code == 200
        response = login_staff(client, "kanri@kanazawa.example.jp")
        assert response.status_code == 429
        assert 0 < int(response.headers["Retry-After"]) <= 2  # a slowdown (issue 9 #2), not a block
        assert "あと2秒お待ち" in response.get_data(as_text=True)
        clock.shift(dt.timedelta(seconds=2))
        assert login_staff(client, "kanri@kanazawa.example.jp").status_code == 302


def test_the_session_ends_after_the_citys_idle_minutes(client_for, kanazawa, make_staff):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False) as clock:
        login_staff(client, "kanri@kanazawa.example.jp")
        clock.shift(dt.timedelta(minutes=14))
        assert client.get("/admin/").status_code == 200  # activity resets the idle clock
        clock.shift(dt.timedelta(minutes=14))
        assert client.get("/admin/").status_code == 200
        clock.shift(dt.timedelta(minutes=15))
        response = client.get("/admin/notices")
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
        assert "一定時間操作がなかったため" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_logout_makes_a_copied_cookie_worthless(client_for, kanazawa, make_staff, audit_entries, app):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    client = client_for("kanazawa")
    login_staff(client, "kanri@kanazawa.example.jp")
    with client.session_transaction(base_url="http://kanazawa.localhost") as session:
        copied = session["staff"]
    response = client.submit("/admin/logout", {}, form_page="/admin/")
    assert response.headers["Location"] == "/admin/login"
    thief = client_for("kanazawa")
    with thief.session_transaction(base_url="http://kanazawa.localhost") as session:
        session["staff"] = copied
    assert thief.get("/admin/").status_code == 302
    assert [e[1] for e in audit_entries(kanazawa) if e[1].startswith("staff.log")] == ["staff.login", "staff.logout"]
    with app.app_context(), tenant_context(kanazawa):
        assert db.session.scalar(select(StaffSession.end_reason)) == "logout"


def test_logout_is_a_post(staff_client):
    client = staff_client("kanazawa")
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400  # no CSRF token
    assert client.get("/admin/").status_code == 200


def test_a_disabled_staff_member_cannot_log_in(client_for, kanazawa, make_staff, audit_entries):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp", disabled=True)
    body = login_staff(client_for("kanazawa"), "kanri@kanazawa.example.jp").get_data(as_text=True)
    assert "メールアドレスまたはパスワードが正しくありません。" in body
    assert audit_entries(kanazawa, "staff.login_failed")[0][3] == {"reason": "disabled"}


# --- TOTP ------------------------------------------------------------------------------

def test_totp_is_asked_after_the_password_and_a_code_works_once(client_for, kanazawa, make_staff, audit_entries):
    secret = pyotp.random_base32()
    make_staff(kanazawa, email="kanri@kanazawa.example.jp", totp_secret=secret)
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False) as clock:
        response = login_staff(client, "kanri@kanazawa.example.jp")
        assert response.headers["Location"] == "/admin/login/totp"
        assert client.get("/admin/").status_code == 302  # the password alone grants nothing
        body = client.submit("/admin/login/totp", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}).get_data(as_text=True)
        assert re.search(r'id="code-error">確認コードが正しくありません。', body)
        body = client.submit("/admin/login/totp", {"code": "12345"}).get_data(as_text=True)
        assert "6桁の数字で入力してください。" in body and 'value="12345"' in body
        code = pyotp.TOTP(secret).now()
        assert client.submit("/admin/login/totp", {"code": code}).headers["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200

        # The same code in a second login (same time step) is refused: no replay.
        other = client_for("kanazawa")
        login_staff(other, "kanri@kanazawa.example.jp")
        assert "確認コードが正しくありません。" in other.submit("/admin/login/totp", {"code": code}).get_data(as_text=True)
        clock.shift(dt.timedelta(seconds=30))
        assert other.submit("/admin/login/totp", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert [e[3].get("reason") for e in audit_entries(kanazawa, "staff.login_failed")] == ["totp", "totp"]


def test_totp_tries_are_throttled(client_for, kanazawa, make_staff):
    secret = pyotp.random_base32()
    make_staff(kanazawa, email="kanri@kanazawa.example.jp", totp_secret=secret)
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False):
        wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        login_staff(client, "kanri@kanazawa.example.jp")
        for _ in range(5):
            client.submit("/admin/login/totp", {"code": wrong})
        response = client.submit("/admin/login/totp", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 429 and "一時的にログインを制限しています" in response.get_data(as_text=True)
        # The pending step is dropped: the next try starts from the password again.
        assert client.get("/admin/login/totp").headers["Location"] == "/admin/login"


def test_pending_second_factor_expires(client_for, kanazawa, make_staff):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp", totp_secret=pyotp.random_base32())
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False) as clock:
        login_staff(client, "kanri@kanazawa.example.jp")
        assert client.get("/admin/login/totp").status_code == 200
        clock.shift(dt.timedelta(minutes=11))
        assert client.get("/admin/login/totp").headers["Location"] == "/admin/login"


def require_totp(app, tenant, value=True):
    from waterportal.admin.settings.services import apply_overrides
    from waterportal.tenancy.registry import get_registry

    with app.app_context(), tenant_context(tenant):
        apply_overrides(tenant, {"admin": {"require_totp": value}}, actor="test")
        db.session.commit()
        get_registry().refresh(force=True)


def test_a_city_can_make_totp_mandatory_staff_enrol_at_login(app, client_for, kanazawa, make_staff, audit_entries):
    staff_id = make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    require_totp(app, kanazawa)
    client = client_for("kanazawa")
    with time_machine.travel(NOON, tick=False):
        assert login_staff(client, "kanri@kanazawa.example.jp").headers["Location"] == "/admin/login/totp-setup"
        page = client.get("/admin/login/totp-setup").get_data(as_text=True)
        assert "2段階認証(確認コード)が必要です" in page
        secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
        token = re.search(r'name="secret_token"[^>]*value="([^"]+)"', page).group(1)
        body = client.submit("/admin/login/totp-setup", {"code": "99999x", "secret_token": token},
                             form_page="/admin/login/totp-setup").get_data(as_text=True)
        assert "6桁の数字で入力してください。" in body and secret[:4] in body  # same key shown again
        response = client.submit("/admin/login/totp-setup", {"code": pyotp.TOTP(secret).now(), "secret_token": token},
                                 form_page="/admin/login/totp-setup")
        assert response.headers["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200
        assert stored_secret(app, kanazawa, staff_id) == secret
        assert audit_entries(kanazawa, "staff.totp_enable")[0][0] == f"staff:{staff_id}"
        # Mandatory: the staff member cannot switch it off.
        response = client.submit("/admin/account/totp/disable", {}, form_page="/admin/account")
        assert "2段階認証が必須のため" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert stored_secret(app, kanazawa, staff_id) == secret


def test_a_forged_enrolment_secret_is_refused(app, client_for, kanazawa, make_staff):
    make_staff(kanazawa, email="kanri@kanazawa.example.jp")
    require_totp(app, kanazawa)
    client = client_for("kanazawa")
    login_staff(client, "kanri@kanazawa.example.jp")
    mine = pyotp.random_base32()
    body = client.submit("/admin/login/totp-setup", {"code": pyotp.TOTP(mine).now(), "secret_token": mine},
                         form_page="/admin/login/totp-setup").get_data(as_text=True)
    assert "画面の有効期限が切れました" in body
    assert client.get("/admin/").status_code == 302


def test_staff_can_turn_totp_on_and_off_when_optional(app, staff_client, kanazawa, audit_entries):
    with time_machine.travel(NOON, tick=False):
        client = staff_client("kanazawa")
        page = client.get("/admin/account/totp").get_data(as_text=True)
        secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
        token = re.search(r'name="secret_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/admin/account/totp", data={"csrf_token": client.csrf_token("/admin/account/totp"),
                                                 "secret_token": token, "code": pyotp.TOTP(secret).now()})
        assert stored_secret(app, kanazawa, client.staff_id) == secret
        client.submit("/admin/account/totp/disable", {}, form_page="/admin/account")
        assert staff_row(app, kanazawa, client.staff_id).totp_secret is None
    assert [e[1] for e in audit_entries(kanazawa) if "totp" in e[1]] == ["staff.totp_enable", "staff.totp_disable"]


# --- one-time passwords and the password policy -----------------------------------------

def test_cli_creates_staff_with_a_one_time_password_that_must_be_changed(runner, client_for, kanazawa, audit_entries):
    result = runner.invoke(args=["staff", "create", "--tenant", "kanazawa", "Tanto@Kanazawa.example.jp",
                                 "--role", "operator", "--name", "担当 花子"])
    assert result.exit_code == 0, result.output
    assert "created staff:" in result.output and "tanto@kanazawa.example.jp (operator)" in result.output
    password = re.search(r"one-time password .*: (\S+)", result.output).group(1)
    client = client_for("kanazawa")
    assert login_staff(client, "tanto@kanazawa.example.jp", password).headers["Location"] == "/admin/account/password"
    assert client.get("/admin/notices").headers["Location"] == "/admin/account/password"
    page = client.get("/admin/account/password").get_data(as_text=True)
    assert "仮のパスワードでログインしています" in page

    body = client.submit("/admin/account/password", {
        "current_password": password, "password": "short", "confirm": "short"}).get_data(as_text=True)
    assert re.search(r'id="password-error">パスワードは12文字以上で入力してください。', body)
    assert "アルファベット大文字を含めてください。" in body and "記号" in body
    body = client.submit("/admin/account/password", {
        "current_password": "nope", "password": "Atarashii-Pass-9", "confirm": "Atarashii-Pass-9"}).get_data(as_text=True)
    assert re.search(r'id="current_password-error">現在のパスワードが正しくありません。', body)
    body = client.submit("/admin/account/password", {
        "current_password": password, "password": "Atarashii-Pass-9", "confirm": "Atarashii-Pass-8"}).get_data(as_text=True)
    assert "新しいパスワードと確認用の入力が一致しません。" in body
    response = client.submit("/admin/account/password", {
        "current_password": password, "password": "Atarashii-Pass-9", "confirm": "Atarashii-Pass-9"})
    assert response.headers["Location"] == "/admin/account"
    assert client.get("/admin/notices").status_code == 200
    assert [e[1] for e in audit_entries(kanazawa) if e[1].startswith("staff.")] == [
        "staff.create", "staff.login", "staff.password_change"]
    assert audit_entries(kanazawa, "staff.create")[0][0] == "vendor:cli"


def test_cli_accepts_a_given_password_only_if_strong(runner, client_for):
    result = runner.invoke(args=["staff", "create", "--tenant", "nayoro", "kanri@nayoro.example.jp", "--role", "admin",
                                 "--password", "password1234"])
    assert result.exit_code != 0 and "アルファベット大文字を含めてください。" in result.output
    result = runner.invoke(args=["staff", "create", "--tenant", "nayoro", "kanri@nayoro.example.jp", "--role", "admin",
                                 "--password", STAFF_PASSWORD])
    assert result.exit_code == 0 and "one-time password" not in result.output
    assert login_staff(client_for("nayoro"), "kanri@nayoro.example.jp").headers["Location"] == "/admin/"
    duplicate = runner.invoke(args=["staff", "create", "--tenant", "nayoro", "kanri@nayoro.example.jp", "--role", "admin"])
    assert duplicate.exit_code != 0 and "すでに登録されています" in duplicate.output
    listed = runner.invoke(args=["staff", "list", "--tenant", "nayoro"])
    assert "kanri@nayoro.example.jp\tadmin" in listed.output


@pytest.mark.parametrize("password, problem", [
    ("Kanazawa-2026", "メールアドレスやログインIDを含むパスワードは使用できません。"),
    ("Abcdefgh1234", "記号"),
    ("Abc-1234", "12文字以上"),
])
def test_the_staff_policy_is_the_strictest(app, kanazawa, password, problem):
    from waterportal.admin.staff.services import staff_password_problems

    with app.app_context():
        assert any(problem in p for p in staff_password_problems(kanazawa, password, "kanazawa@example.jp"))
        assert staff_password_problems(kanazawa, STAFF_PASSWORD, "kanri@example.jp") == []
