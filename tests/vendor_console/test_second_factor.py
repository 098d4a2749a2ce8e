"""Issue 9 #1: the vendor never reaches a city's console past that city's second factor.

A city that sets ``admin.require_totp`` gets no vendor in its console whose vendor session
did not pass TOTP: the link is refused on the vendor host (and again on the city's host,
should the city start requiring it in between), and the city's audit log says who tried
and whether a second factor was passed. In production every vendor login needs TOTP.
"""
from __future__ import annotations

import tomllib

import pyotp
import pytest

from tests.admin.test_auth import require_totp
from tests.vendor_console import test_console as console_tests
from tests.vendor_console.test_console import VENDOR, follow, open_city, text, vendor_login
from waterportal.audit.models import AuditEntry
from waterportal.core.paths import CONFIG_DIR
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.vendor_console.auth import enable_totp
from waterportal.vendor_console.models import VendorStaff

# Fixtures shared with test_console.py.
make_vendor, vendor_client = console_tests.make_vendor, console_tests.vendor_client
audit_entries = console_tests.audit_entries


def totp_login(client_for, secret: str):
    """A vendor client logged in with password and code."""
    client = client_for(VENDOR)
    assert vendor_login(client).headers["Location"] == "/vendor/login/totp"
    assert client.submit("/vendor/login/totp", {"code": pyotp.TOTP(secret).now()}).headers["Location"] == "/vendor/"
    return client


def test_no_link_into_a_city_that_requires_totp_without_it(app, vendor_client, client_for, kanazawa, audit_entries):
    require_totp(app, kanazawa)
    response = vendor_client.submit("/vendor/cities/kanazawa/console", {}, form_page="/vendor/")
    assert response.status_code == 302 and response.headers["Location"] == "/vendor/"
    assert "2段階認証を必須にしています" in text(vendor_client.get("/vendor/"))
    actor = f"vendor:{vendor_client.vendor_id}"
    [entry] = [e for e in audit_entries(kanazawa) if e[0] == actor]
    assert entry[1] == "vendor.city_link_refused"
    # A city that does not require it still opens, and its log says no second factor was passed.
    url = open_city(vendor_client, "nayoro")
    assert follow(client_for("nayoro"), url).headers["Location"] == "/admin/"


def test_a_vendor_who_passed_totp_opens_it_and_the_log_says_so(app, make_vendor, client_for, kanazawa):
    require_totp(app, kanazawa)
    secret = pyotp.random_base32()
    vendor_id = make_vendor(totp_secret=secret)
    client = totp_login(client_for, secret)
    url = open_city(client, "kanazawa")
    browser = client_for("kanazawa")
    assert follow(browser, url).headers["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200
    with app.app_context():
        with tenant_context(kanazawa):
            details = {e.action: e.detail for e in db.session.query(AuditEntry).filter(
                AuditEntry.actor == f"vendor:{vendor_id}")}
    assert details["vendor.city_link"]["second_factor"] is True
    assert details["vendor.login"]["second_factor"] is True


def test_a_city_that_starts_requiring_totp_refuses_an_issued_link(app, vendor_client, client_for, kanazawa,
                                                                   audit_entries):
    url = open_city(vendor_client, "kanazawa")
    require_totp(app, kanazawa)
    browser = client_for("kanazawa")
    assert follow(browser, url).headers["Location"] == "/admin/login"
    assert "2段階認証を必須にしています" in text(browser.get("/admin/login"))
    assert browser.get("/admin/").headers["Location"].startswith("/admin/login")
    assert audit_entries(kanazawa)[-1][1] == "vendor.city_link_refused"


def test_production_refuses_a_vendor_login_without_totp(app, make_vendor, client_for):
    make_vendor()
    app.config["VENDOR_REQUIRE_TOTP"] = True
    try:
        client = client_for(VENDOR)
        response = vendor_login(client)
        assert response.status_code == 403
        assert "2段階認証が必須です" in text(response)
        assert client.get("/vendor/").headers["Location"] == "/vendor/login"
    finally:
        app.config["VENDOR_REQUIRE_TOTP"] = False


@pytest.mark.parametrize("env", ["production", "development", "testing"])
def test_vendor_totp_is_required_in_production_only(env):
    settings = tomllib.loads((CONFIG_DIR / "default.toml").read_text())
    env_file = CONFIG_DIR / f"{env}.toml"
    settings.update(tomllib.loads(env_file.read_text()) if env_file.is_file() else {})
    assert settings["VENDOR_REQUIRE_TOTP"] is (env == "production")


def test_turning_totp_on_ends_the_sessions_that_began_without_it(app, vendor_client):
    secret = pyotp.random_base32()
    with app.app_context():
        vendor = db.session.get(VendorStaff, vendor_client.vendor_id)
        enable_totp(vendor, secret, pyotp.TOTP(secret).now())
        db.session.commit()
    assert vendor_client.get("/vendor/").headers["Location"] == "/vendor/login"
