"""No city's staff, and no citizen, can reach another city's console; roles; template safety."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.admin.alert_support import add_area_alert
from tests.admin.conftest import login_staff
from tests.billing.issued import issued_bill
from tests.procedures.staff_support import add_request
from waterportal.admin.models import StaffMember
from waterportal.admin.settings.services import apply_overrides
from waterportal.admin.staff.services import UNLOCK
from waterportal.contracts.models import MemberContract
from waterportal.core.auth import unlock
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.inquiries.models import Inquiry
from waterportal.notices.models import Notice
from waterportal.procedures.models import ProcedureAttachment
from waterportal.tenancy.context import tenant_context

# Login steps, the vendor console's one-time link (its own key is the credential) and CSS.
PUBLIC = {"admin.login", "admin.login_totp", "admin.login_totp_setup", "admin.static", "admin.vendor_login",
          "admin.unlock_login"}  # the mailed unlock link: its key is the credential
SECRET_MARKERS = ("名寄の内部向けお知らせ", "soumu@nayoro.example.jp", "変更履歴 No.", "管理画面トップ", "職員の一覧",
                  "shimin-secret@example.jp", "水道料金が高い件", "contracts-nayoro.csv", "0165999999",
                  "名寄の転入者", "%PDF-1.4 nayoro-secret")


def admin_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]


@pytest.fixture
def nayoro_data(app, nayoro, make_staff, make_member, make_contract):
    """Nayoro's console data: a staff member, a notice, a settings revision, a member with a
    contract, an inquiry and an import batch; returns the ids every /admin URL needs."""
    staff_id = make_staff(nayoro, email="soumu@nayoro.example.jp")
    member_id = make_member(nayoro, email="shimin-secret@example.jp")
    contract_id = make_contract(nayoro, phone="0165999999")
    with app.app_context(), tenant_context(nayoro):
        notice = Notice(title="名寄の内部向けお知らせ", body="本文")
        link = MemberContract(member_id=member_id, contract_id=contract_id)
        inquiry = Inquiry(name="名寄 市民", email="shimin-secret@example.jp", category="その他",
                          subject="水道料金が高い件", body="本文")
        batch = ImportBatch(kind="contracts", filename="contracts-nayoro.csv", sha256="0" * 64, status="ok")
        db.session.add_all([notice, link, inquiry, batch])
        revision = apply_overrides(nayoro, {"notices": {"new_badge_days": 3}}, actor=f"staff:{staff_id}")
        token = unlock.issue(UNLOCK, db.session.get(StaffMember, staff_id))
        db.session.commit()
        ids = {"notice_id": notice.id, "staff_id": staff_id, "number": revision.number, "group_slug": "hours",
               "filename": "admin.css", "member_id": member_id, "link_id": link.id, "inquiry_id": inquiry.id,
               "batch_id": batch.id, "token": token}
    # A procedure request with a file (各種お手続き).
    ids["request_id"] = add_request(app, nayoro, "move_in", "received", applicant_name="名寄の転入者",
                                    files=(("receipt.pdf", "application/pdf", b"%PDF-1.4 nayoro-secret"),))
    with app.app_context(), tenant_context(nayoro):
        ids["attachment_id"] = db.session.scalar(select(ProcedureAttachment.id))
    ids["issued_id"] = issued_bill(app, nayoro, contract_id)  # a bill PDF as issued (billing.issuing)
    ids["alert_id"] = add_area_alert(app, nayoro, contract_id)  # 地区別のお知らせ
    return ids


def url(rule, ids) -> str:
    missing = rule.arguments - set(ids)
    assert not missing, f"nayoro_data has no id for {sorted(missing)} of {rule.rule}: add one so the walk covers it"
    return rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1]


def assert_refused(response, where: str) -> None:
    body = response.get_data(as_text=True)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/admin/login"), where
    else:
        assert response.status_code in (403, 404), (where, response.status_code)
    for marker in SECRET_MARKERS:
        assert marker not in body, (where, marker)


def walk(client, app, ids):
    """Every /admin rule with every method it takes; yields (where, response)."""
    token = client.csrf_token("/admin/login")
    for rule in admin_rules(app):
        path = url(rule, ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            response.get_data()  # read, then close: static files are streamed
            response.close()
            yield rule, f"{method} {path}", response


def test_every_console_view_requires_a_staff_member(app):
    """Each /admin endpoint except login steps and static files is wrapped by staff_required."""
    for rule in admin_rules(app):
        if rule.endpoint not in PUBLIC:
            assert hasattr(app.view_functions[rule.endpoint], "staff_role"), rule.endpoint


def test_another_citys_staff_session_opens_nothing_here(app, client_for, staff_client, nayoro_data):
    kanazawa_admin = staff_client("kanazawa")
    cookie = kanazawa_admin.get_cookie("session", domain="kanazawa.localhost")
    assert cookie is not None
    # The same cookie is a working admin session on its own city (so the walk below means something) ...
    replay = client_for("kanazawa")
    replay.set_cookie("session", cookie.value, domain="kanazawa.localhost")
    assert replay.get("/admin/settings").status_code == 200
    # ... and worthless on Nayoro's host, for every console route and method.
    attacker = client_for("nayoro")
    attacker.set_cookie("session", cookie.value, domain="nayoro.localhost")
    walked = 0
    for rule, where, response in walk(attacker, app, nayoro_data):
        walked += 1
        if rule.endpoint == "admin.static":
            assert response.status_code == 200 and "text/css" in response.content_type
        elif rule.endpoint in ("admin.login", "admin.unlock_login") and response.status_code == 200:
            assert "ログイン" in response.get_data(as_text=True)
            for marker in SECRET_MARKERS:
                assert marker not in response.get_data(as_text=True)
        else:
            assert_refused(response, where)
    assert walked >= sum(len(r.methods & {"GET", "POST"}) for r in admin_rules(app)) >= 40


def test_a_logged_in_citizen_opens_nothing_in_the_console(app, client_for, make_member, nayoro, nayoro_data):
    make_member(nayoro, email="shimin@example.jp")
    citizen = client_for("nayoro")
    response = citizen.submit("/login", {"identifier": "shimin@example.jp", "password": "Passw0rd!x"})
    assert response.status_code == 302 and citizen.get("/mypage").status_code == 200
    for rule, where, response in walk(citizen, app, nayoro_data):
        if rule.endpoint in PUBLIC:
            assert response.status_code in (200, 302), where
            assert "名寄の内部向けお知らせ" not in response.get_data(as_text=True)
        else:
            assert_refused(response, where)


def test_a_citizen_password_is_not_a_staff_login(client_for, make_member, nayoro):
    make_member(nayoro, email="shimin@example.jp", password="Shimin-Pass-2026!")
    response = login_staff(client_for("nayoro"), "shimin@example.jp", "Shimin-Pass-2026!")
    assert "メールアドレスまたはパスワードが正しくありません。" in response.get_data(as_text=True)


def test_an_operator_is_refused_everything_but_reading(app, staff_client, nayoro_data):
    operator = staff_client("nayoro", role="operator")
    admin_only = {r.endpoint for r in admin_rules(app)
                  if getattr(app.view_functions[r.endpoint], "staff_role", None) == "admin"}
    assert {"admin.settings_index", "admin.settings_group", "admin.settings_history", "admin.settings_rollback",
            "admin.staff_list", "admin.staff_new", "admin.staff_disable", "admin.audit_log", "admin.audit_csv",
            "admin.notice_new", "admin.notice_edit", "admin.notice_delete"} <= admin_only
    token = operator.csrf_token("/admin/")
    for rule in admin_rules(app):
        if rule.endpoint not in admin_only:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = operator.open(url(rule, nayoro_data), method=method, data={"csrf_token": token})
            assert response.status_code == 403, (method, rule.rule)
    page = operator.get("/admin/notices").get_data(as_text=True)
    assert "名寄の内部向けお知らせ" in page and "お知らせを作成する" not in page and "/edit" not in page
    assert 'href="/admin/settings"' not in operator.get("/admin/").get_data(as_text=True)


@pytest.fixture
def overrides_everywhere(app, tmp_path):
    """Private copies of tenants/ and themes/ holding admin template overrides."""
    from waterportal.tenancy.templating import build_loader

    original = app.config["TENANTS_DIR"], app.config["THEMES_DIR"], app.jinja_loader
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(original[0], tenants)
    shutil.copytree(original[1], themes)
    for folder in (tenants / "nayoro" / "templates" / "admin", themes / "default" / "templates" / "admin"):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("base.html", "login.html", "macros.html"):
            (folder / name).write_text("HACKED {{ config.SECRET_KEY }}", encoding="utf-8")
    app.config["TENANTS_DIR"], app.config["THEMES_DIR"] = str(tenants), str(themes)
    app.jinja_loader = build_loader(app, tenants, themes)
    app.jinja_env.cache.clear()
    yield
    app.config["TENANTS_DIR"], app.config["THEMES_DIR"], app.jinja_loader = original
    app.jinja_env.cache.clear()


def test_cities_and_themes_cannot_override_console_templates(app, client_for, overrides_everywhere):
    body = client_for("nayoro").get("/admin/login").get_data(as_text=True)
    assert "HACKED" not in body and "職員ログイン" in body
    with app.app_context():
        assert Path(app.jinja_env.get_template("admin/base.html").filename).parts[-4:] == (
            "admin", "templates", "admin", "base.html")


def test_console_responses_are_not_cached_or_framed(staff_client):
    response = staff_client("nayoro").get("/admin/")
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"
    assert re.search(r'<meta name="robots" content="noindex', response.get_data(as_text=True))
