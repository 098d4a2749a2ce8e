"""The vendor console on vendor.localhost: vendor staff only, the cities with their figures
(a fixed number of queries), audited one-time links into a city's console, and the
separation of vendor and city hosts in both directions."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import event, select

from tests.admin import conftest as admin_fixtures
from tests.admin.conftest import login_staff
from waterportal.admin.models import StaffMember
from waterportal.core.auth import secret_box
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.mail.models import OutboxMessage
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy.context import tenant_context
from waterportal.vendor_console.models import VendorStaff

# The staff console tests' fixtures, shared here.
audit_entries, make_staff, staff_client = admin_fixtures.audit_entries, admin_fixtures.make_staff, admin_fixtures.staff_client

VENDOR = "vendor.localhost"
PASSWORD = "Unyo-Jigyosha-2026!"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def make_vendor(app):
    """``make_vendor(email, totp_secret=None)`` -> the id of a vendor staff member (password PASSWORD)."""

    def make(email="ops@vendor.example", **fields):
        with app.app_context():
            if fields.get("totp_secret"):  # stored as the app stores it: sealed
                fields["totp_secret"] = secret_box.seal(fields["totp_secret"])
            vendor = VendorStaff(email=email, name=fields.pop("name", "運用 担当"),
                                 password_hash=hash_password(PASSWORD), **fields)
            db.session.add(vendor)
            db.session.commit()
            return vendor.id

    return make


def vendor_login(client, email="ops@vendor.example", password=PASSWORD):
    return client.submit("/vendor/login", {"email": email, "password": password})


@pytest.fixture
def vendor_client(client_for, make_vendor):
    """A client on vendor.localhost logged in as a new vendor staff member (``.vendor_id``)."""
    vendor_id = make_vendor()
    client = client_for(VENDOR)
    response = vendor_login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/vendor/", text(response)
    client.vendor_id = vendor_id
    return client


def row_of(page: str, slug: str) -> str:
    match = re.search(rf'<tr data-city="{slug}">(.*?)</tr>', page, re.DOTALL)
    assert match, page
    return match.group(1)


def figure(row: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">(.*?)</td>', row, re.DOTALL).group(1).strip()


def test_the_console_lists_every_city_with_its_figures(app, vendor_client, nayoro, kanazawa, make_member, make_contract):
    for n in range(3):
        make_member(nayoro, email=f"n{n}@example.jp")
    make_member(kanazawa, email="n0@example.jp", login_id="kaga2026")
    for _ in range(2):
        make_contract(nayoro)
    with app.app_context():
        with tenant_context(nayoro):
            db.session.add_all([
                ImportBatch(kind="contracts", filename="old.csv", sha256="0" * 64, status="ok", rows=1, inserted=1),
                ImportBatch(kind="bills", filename="bills.csv", sha256="1" * 64, status="rejected", rows=9, rejected=2,
                            started_at=dt.datetime(2026, 6, 1, 3, 0)),
                OutboxMessage(to_address="a@example.jp", sender="s", subject="s", body="b"),
                OutboxMessage(to_address="b@example.jp", sender="s", subject="s", body="b", attempts=2),
                OutboxMessage(to_address="c@example.jp", sender="s", subject="s", body="b", status="failed", attempts=8),
                OutboxMessage(to_address="d@example.jp", sender="s", subject="s", body="b", status="sent"),
            ])
            db.session.commit()
        with tenant_context(kanazawa):
            db.session.add(OutboxMessage(to_address="k@example.jp", sender="s", subject="s", body="b", status="failed"))
            db.session.commit()
    page = text(vendor_client.get("/vendor/"))
    assert "市町村(2)" in page
    nayoro_row, kanazawa_row = row_of(page, "nayoro"), row_of(page, "kanazawa")
    assert "名寄市" in nayoro_row and "nayoro.localhost" in nayoro_row and "稼働中" in nayoro_row
    assert (figure(nayoro_row, "members"), figure(nayoro_row, "contracts")) == ("3", "2")
    last = figure(nayoro_row, "last-import")
    assert "請求" in last and "取り込み不可" in last and "2026-06-01 12:00" in last and "エラー2行" in last
    assert figure(nayoro_row, "mail-pending").startswith("2") and "うち再送待ち 1" in figure(nayoro_row, "mail-pending")
    assert figure(nayoro_row, "mail-failed") == "1"
    assert (figure(kanazawa_row, "members"), figure(kanazawa_row, "contracts")) == ("1", "0")
    assert "なし" in figure(kanazawa_row, "last-import") and figure(kanazawa_row, "mail-failed") == "1"
    assert "ログインIDでログイン" in kanazawa_row


def test_the_figures_cost_the_same_queries_for_any_number_of_cities(app, vendor_client, tmp_path):
    def statements() -> int:
        seen = []
        with app.app_context():
            engine = db.engine

        def listener(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert vendor_client.get("/vendor/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    two = statements()
    city = tmp_path / "wakkanai"
    city.mkdir()
    source = (Path(app.config["TENANTS_DIR"]) / "nayoro" / "tenant.toml").read_text(encoding="utf-8")
    city.joinpath("tenant.toml").write_text(
        source.replace('slug = "nayoro"', 'slug = "wakkanai"').replace('"nayoro.localhost"', '"wakkanai.localhost"'),
        encoding="utf-8")
    with app.app_context():
        apply_definition(read_definition(city))
        db.session.commit()
    three = statements()
    assert "wakkanai.localhost" in text(vendor_client.get("/vendor/"))
    assert three == two


def test_the_vendor_host_serves_nothing_of_a_city(app, client_for, vendor_client):
    anonymous = client_for(VENDOR)
    assert anonymous.get("/").headers["Location"] == "/vendor/"
    assert anonymous.get("/vendor/").headers["Location"] == "/vendor/login"
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("vendor.") or rule.endpoint == "health.healthz" or rule.rule == "/":
            continue
        path = rule.build({name: 1 for name in rule.arguments} | {k: "x" for k in ("filename", "slug", "name")
                                                                  if k in rule.arguments}, append_unknown=False)[1]
        for client in (anonymous, vendor_client):
            response = client.get(path)
            assert response.status_code == 404, (path, response.status_code)
            response.close()
            walked += 1
    assert walked > 40


def test_city_hosts_never_serve_vendor_pages(app, client_for, staff_client, vendor_client):
    vendor_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("vendor.")]
    assert {r.endpoint for r in vendor_rules} >= {"vendor.index", "vendor.login", "vendor.open_city_console"}
    city_admin = staff_client("nayoro")
    replay = client_for("nayoro")  # the vendor's cookie sent to a city host opens nothing either
    cookie = vendor_client.get_cookie("session", domain=VENDOR)
    replay.set_cookie("session", cookie.value, domain="nayoro.localhost")
    for rule in vendor_rules:
        path = rule.build({"slug": "nayoro", "filename": "admin.css"}, append_unknown=False)[1]
        for client in (client_for("nayoro"), client_for("kanazawa"), city_admin, replay):
            # A valid token of that session, so only the host can refuse.
            token = client.csrf_token("/admin/" if client is city_admin else "/admin/login")
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
                assert response.status_code == 404, (method, path)
                response.close()
    assert replay.get("/admin/").headers["Location"].startswith("/admin/login")


def test_city_staff_are_not_vendor_staff(client_for, make_staff, nayoro, staff_client):
    make_staff(nayoro, email="kanri@nayoro.example.jp")
    vendor_host = client_for(VENDOR)
    page = text(vendor_login(vendor_host, "kanri@nayoro.example.jp", "Josui-Pump-2026!"))
    assert "メールアドレスまたはパスワードが正しくありません。" in page
    # A city staff session cookie replayed on the vendor host is no vendor session.
    city_admin = staff_client("nayoro")
    cookie = city_admin.get_cookie("session", domain="nayoro.localhost")
    vendor_host.set_cookie("session", cookie.value, domain=VENDOR)
    assert vendor_host.get("/vendor/").headers["Location"] == "/vendor/login"


def open_city(vendor_client, slug="nayoro") -> str:
    response = vendor_client.submit(f"/vendor/cities/{slug}/console", {}, form_page="/vendor/")
    assert response.status_code == 303, text(response)
    return response.headers["Location"]


def follow(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def test_a_vendor_opens_a_citys_console_once_and_it_is_audited_there(
        vendor_client, client_for, nayoro, kanazawa, audit_entries):
    url = open_city(vendor_client)
    assert url.startswith("http://nayoro.localhost/admin/vendor-login?key=")
    browser = client_for("nayoro")
    assert follow(browser, url).headers["Location"] == "/admin/"
    home = text(browser.get("/admin/"))
    assert "管理画面トップ" in home and "ベンダー 運用 担当" in home and "管理者" in home
    actor = f"vendor:{vendor_client.vendor_id}"
    entries = [(e[0], e[1]) for e in audit_entries(nayoro)]
    assert entries[-3:] == [(actor, "vendor.city_link"), (actor, "staff.create"), (actor, "vendor.login")]
    # What the vendor does there is the vendor's in the city's log.
    browser.submit("/admin/notices/new", {"title": "点検のお知らせ", "body": "本文", "published_at": "2026-06-10T10:00"})
    assert audit_entries(nayoro, "notice.create")[-1][0] == actor
    assert [e for e in audit_entries(kanazawa) if e[0] == actor] == []
    # The link worked once; the same key opens nothing again, here or in another city.
    again = client_for("nayoro")
    assert follow(again, url).headers["Location"] == "/admin/login"
    assert "使用済みか、有効期限が切れています" in text(again.get("/admin/login"))
    assert again.get("/admin/").headers["Location"].startswith("/admin/login")
    second = open_city(vendor_client)
    elsewhere = client_for("kanazawa")
    follow(elsewhere, second.replace("nayoro.localhost", "kanazawa.localhost"))
    assert elsewhere.get("/admin/").headers["Location"].startswith("/admin/login")


def test_a_link_expires_and_the_city_can_shut_the_vendor_out(app, vendor_client, client_for, nayoro, staff_client):
    url = open_city(vendor_client)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)):
        late = client_for("nayoro")
        follow(late, url)
        assert late.get("/admin/").headers["Location"].startswith("/admin/login")
    first = client_for("nayoro")
    follow(first, open_city(vendor_client))
    assert first.get("/admin/").status_code == 200
    with app.app_context(), tenant_context(nayoro):
        shadow = db.session.scalar(select(StaffMember).where(StaffMember.vendor_id == vendor_client.vendor_id))
        assert shadow.email == f"vendor{vendor_client.vendor_id}@vendor.invalid"
        shadow_id = shadow.id
    city_admin = staff_client("nayoro")
    assert "ベンダー 運用 担当" in text(city_admin.get("/admin/staff"))
    city_admin.submit(f"/admin/staff/{shadow_id}/disable", {}, form_page="/admin/staff")
    assert first.get("/admin/").headers["Location"].startswith("/admin/login")
    refused = client_for("nayoro")
    follow(refused, open_city(vendor_client))
    assert "市町村の管理者により無効にされています" in text(refused.get("/admin/login"))
    # Nobody logs in to that account with a password.
    assert login_staff(client_for("nayoro"), f"vendor{vendor_client.vendor_id}@vendor.invalid", PASSWORD).status_code == 200


def test_a_disabled_city_is_not_opened(app, runner, vendor_client):
    with app.app_context():
        assert runner.invoke(args=["tenant", "disable", "kanazawa"]).exit_code == 0
    page = text(vendor_client.get("/vendor/"))
    assert "停止中" in row_of(page, "kanazawa")
    response = vendor_client.submit("/vendor/cities/kanazawa/console", {}, form_page="/vendor/")
    assert "金沢市は停止中のため、管理画面を開けません" in text(vendor_client.get(response.headers["Location"]))
    assert vendor_client.submit("/vendor/cities/nowhere/console", {}, form_page="/vendor/").status_code == 404


@pytest.mark.parametrize("slug", ["%00", "nayoro%00", "a" * 3000, "%ff", "Nayoro"])
def test_a_slug_that_is_no_city_is_a_404(vendor_client, slug):
    # A NUL once reached PostgreSQL, which refuses it: a 500.
    token = vendor_client.csrf_token("/vendor/")
    response = vendor_client.post(f"/vendor/cities/{slug}/console", data={"csrf_token": token})
    assert response.status_code == 404
    assert "はありません" in text(response)


@pytest.mark.parametrize("email", ["ops\x00@vendor.example", "ops@vendor.example\x00"])
def test_an_email_with_nul_is_a_failed_login(client_for, make_vendor, email):
    make_vendor()
    response = vendor_login(client_for(VENDOR), email=email)
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません。" in text(response)


def test_cities_and_themes_cannot_override_vendor_templates(app, client_for, tmp_path):
    import shutil

    from waterportal.tenancy.templating import build_loader

    original = app.config["TENANTS_DIR"], app.config["THEMES_DIR"], app.jinja_loader
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(original[0], tenants)
    shutil.copytree(original[1], themes)
    for folder in (tenants / "nayoro" / "templates" / "vendor", themes / "default" / "templates" / "vendor"):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("base.html", "login.html", "index.html"):
            (folder / name).write_text("HACKED {{ config.SECRET_KEY }}", encoding="utf-8")
    app.config["TENANTS_DIR"], app.config["THEMES_DIR"] = str(tenants), str(themes)
    app.jinja_loader = build_loader(app, tenants, themes)
    app.jinja_env.cache.clear()
    try:
        body = text(client_for(VENDOR).get("/vendor/login"))
        assert "HACKED" not in body and "ベンダー管理画面 ログイン" in body
        with app.app_context():
            assert Path(app.jinja_env.get_template("vendor/base.html").filename).parts[-4:] == (
                "vendor_console", "templates", "vendor", "base.html")
    finally:
        app.config["TENANTS_DIR"], app.config["THEMES_DIR"], app.jinja_loader = original
        app.jinja_env.cache.clear()
