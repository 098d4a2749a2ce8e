"""Nobody can lock out a city admin or a vendor (issue 9 #2): an attacker's failures slow
only unknown browsers (seconds, never the old 15-minute block), the owner's own browser logs
in at once, a city admin is mailed (once per window) a single-use expiring unlock link, and
the lockout and the unlock are in the city's audit log without the link's key."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.accounts.conftest import link_in, without_csrf
from tests.admin.conftest import login_staff
from tests.vendor_console import test_console as console_tests
from tests.vendor_console.test_console import VENDOR, text, vendor_login
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

make_vendor = console_tests.make_vendor
ADMIN = "kanri@nayoro.example.jp"
WRONG = "Wrong-Pass-2026!"


def from_address(client, number: int):
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number % 250 + 1}"
    return client


def attack(client_for, host, post, times, clock=None):
    """``times`` wrong passwords, each from a new browser and address (``clock``: each
    slowdown waited out, so every attempt is a counted failure)."""
    for number in range(times):
        client = from_address(client_for(host), number)
        response = post(client)
        while clock is not None and response.status_code == 429:
            clock.shift(seconds=int(response.headers["Retry-After"]))
            response = post(client)
        assert response.status_code in (200, 429)


def staff_attack(client_for, times, clock=None):
    attack(client_for, "nayoro", lambda c: login_staff(c, ADMIN, WRONG), times, clock)


def unlock_mails(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_login_unlock")).all()


def test_the_admins_browser_logs_in_at_once_after_fifty_failures_elsewhere(client_for, nayoro, make_staff, clock):
    make_staff(nayoro, email=ADMIN)
    admin = client_for("nayoro")
    assert login_staff(admin, ADMIN).status_code == 302
    admin.submit("/admin/logout", {}, form_page="/admin/")
    device = admin.get_cookie("staff_device", domain="nayoro.localhost", path="/admin/")
    assert device is not None and device.http_only
    staff_attack(client_for, 50, clock)
    assert login_staff(admin, ADMIN).status_code == 302


def test_the_staff_device_cookie_is_host_only_httponly_and_secure_in_production(app, client_for, nayoro, make_staff):
    make_staff(nayoro, email=ADMIN)
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = login_staff(client_for("nayoro"), ADMIN)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("staff_device="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "Domain" not in cookie and ADMIN not in cookie


def test_a_new_browser_is_slowed_not_blocked_and_one_mail_unlocks_it_once(
    app, client_for, nayoro, make_staff, audit_entries, clock
):
    make_staff(nayoro, email=ADMIN)
    staff_attack(client_for, 50)
    fresh = client_for("nayoro")
    response = login_staff(fresh, ADMIN)
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 120 and f"あと{seconds}秒お待ち" in text(response)
    mails = unlock_mails(app, nayoro)
    assert len(mails) == 1 and mails[0].to_address == ADMIN
    path = link_in(mails[0].body)
    assert path.startswith("/admin/login/unlock/")
    page = fresh.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    unlocked = fresh.submit(path, {})
    assert unlocked.status_code == 302 and unlocked.headers["Location"] == "/admin/login"
    assert unlocked.headers["Referrer-Policy"] == "no-referrer"
    staff_attack(client_for, 10)  # the attacker goes on
    assert login_staff(fresh, ADMIN).status_code == 302
    used = client_for("nayoro")
    assert used.get(path).status_code == 400
    assert used.submit(path, {}, form_page="/admin/login").status_code == 400
    # The audit log: the lockout and the unlock, never the link's key.
    key = path.rsplit("/", 1)[1]
    assert [e[1] for e in audit_entries(nayoro, "staff.login_slowed")] == ["staff.login_slowed"]
    assert [e[2] for e in audit_entries(nayoro, "staff.login_unlocked")] == [ADMIN]
    assert all(key not in json.dumps(e, default=str) for e in audit_entries(nayoro))


def test_the_staff_unlock_link_expires(app, client_for, nayoro, make_staff, clock):
    make_staff(nayoro, email=ADMIN)
    staff_attack(client_for, 6)
    path = link_in(unlock_mails(app, nayoro)[0].body)
    clock.shift(minutes=61)
    page = client_for("nayoro").get(path)
    assert page.status_code == 400 and "有効期限" in text(page)


def test_the_link_is_for_its_city_only(app, client_for, nayoro, make_staff):
    make_staff(nayoro, email=ADMIN)
    staff_attack(client_for, 6)
    path = link_in(unlock_mails(app, nayoro)[0].body)
    assert client_for("kanazawa").get(path).status_code == 400
    assert client_for("nayoro").get(path).status_code == 200


def test_unknown_staff_email_is_slowed_the_same_way(app, client_for, nayoro, make_staff):
    make_staff(nayoro, email=ADMIN)
    other = "nobody@nayoro.example.jp"
    staff_attack(client_for, 6)
    attack(client_for, "nayoro", lambda c: login_staff(c, other, WRONG), 6)
    known, unknown = login_staff(client_for("nayoro"), ADMIN), login_staff(client_for("nayoro"), other)
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert without_csrf(text(known)).replace(ADMIN, "X") == without_csrf(text(unknown)).replace(other, "X")
    assert len(unlock_mails(app, nayoro)) == 1


def test_one_address_spraying_staff_accounts_is_blocked(client_for, nayoro, make_staff):
    make_staff(nayoro, email=ADMIN)
    sprayer = from_address(client_for("nayoro"), 9)
    for number in range(20):
        assert login_staff(sprayer, f"user{number}@nayoro.example.jp", WRONG).status_code == 200
    blocked = login_staff(sprayer, ADMIN)
    assert blocked.status_code == 429 and "分ほど時間をおいて" in text(blocked)
    assert login_staff(from_address(client_for("nayoro"), 10), ADMIN).status_code == 302


# --- vendor staff: the same, platform-wide (no city, so no mail: `flask vendor unlock`) ------

def vendor_attack(client_for, times, clock=None):
    attack(client_for, VENDOR, lambda c: vendor_login(c, password="wrong-one"), times, clock)


def test_the_vendors_browser_logs_in_at_once_and_a_new_one_is_only_slowed(client_for, make_vendor, clock):
    make_vendor()
    vendor = client_for(VENDOR)
    assert vendor_login(vendor).status_code == 302
    vendor.submit("/vendor/logout", {}, form_page="/vendor/")
    vendor_attack(client_for, 50, clock)
    vendor_attack(client_for, 5)
    assert vendor_login(vendor).status_code == 302
    fresh = vendor_login(client_for(VENDOR))
    assert fresh.status_code == 429 and 0 < int(fresh.headers["Retry-After"]) <= 120
    assert "秒お待ち" in text(fresh)


def test_flask_vendor_unlock_lifts_the_slowdown(app, client_for, make_vendor, runner):
    make_vendor()
    vendor_attack(client_for, 6)
    assert vendor_login(client_for(VENDOR)).status_code == 429
    result = runner.invoke(args=["vendor", "unlock", "ops@vendor.example"])
    assert result.exit_code == 0, result.output
    assert vendor_login(client_for(VENDOR)).status_code == 302
