"""Vendor console accounts: login errors, throttles, TOTP, the vendor CLI and the demo accounts."""
from __future__ import annotations

import re

import pyotp

from tests.admin.conftest import login_staff
from tests.vendor_console import test_console as console_tests
from tests.vendor_console.test_console import VENDOR, follow, open_city, text, vendor_login

# Fixtures shared with test_console.py.
make_vendor, vendor_client = console_tests.make_vendor, console_tests.vendor_client


def test_vendor_login_errors_throttles_and_logout(client_for, make_vendor):
    make_vendor()
    client = client_for(VENDOR)
    page = text(client.submit("/vendor/login", {"email": "ops@", "password": ""}))
    assert re.search(r'id="email-error">メールアドレスの形式が正しくありません。', page)
    assert re.search(r'id="password-error">パスワードを入力してください。', page) and 'value="ops@"' in page
    for _ in range(5):
        assert "メールアドレスまたはパスワードが正しくありません。" in text(vendor_login(client, password="wrong-one"))
    refused = vendor_login(client)
    assert refused.status_code == 429 and "あと2秒お待ち" in text(refused)  # a slowdown, not a block
    other = client_for(VENDOR)
    make_vendor(email="second@vendor.example")
    assert vendor_login(other, "second@vendor.example").status_code == 302
    other.submit("/vendor/logout", {}, form_page="/vendor/")
    assert other.get("/vendor/").headers["Location"] == "/vendor/login"


def test_vendor_totp_is_asked_when_set(client_for, make_vendor):
    secret = pyotp.random_base32()
    make_vendor(totp_secret=secret)
    client = client_for(VENDOR)
    assert vendor_login(client).headers["Location"] == "/vendor/login/totp"
    assert client.get("/vendor/").headers["Location"] == "/vendor/login"  # nothing before the code
    page = text(client.submit("/vendor/login/totp", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}))
    assert re.search(r'id="code-error">確認コードが正しくありません。', page)
    assert client.submit("/vendor/login/totp", {"code": pyotp.TOTP(secret).now()}).headers["Location"] == "/vendor/"
    assert client.get("/vendor/").status_code == 200


def test_vendor_staff_cli(app, runner, vendor_client, client_for, nayoro):
    with app.app_context():
        weak = runner.invoke(args=["vendor", "create-staff", "new@vendor.example", "--password", "short"])
        assert weak.exit_code == 1 and "文字以上" in weak.output
        made = runner.invoke(args=["vendor", "create-staff", "New@Vendor.Example", "--name", "新人",
                                   "--password", "Kaisha-Unyo-2026!"])
        assert made.exit_code == 0 and "created vendor:" in made.output and "http://vendor.localhost/" in made.output
        dup = runner.invoke(args=["vendor", "create-staff", "new@vendor.example", "--password", "Kaisha-Unyo-2026!"])
        assert dup.exit_code == 1 and "すでに登録されています" in dup.output
        listing = runner.invoke(args=["vendor", "list-staff"]).output
        assert "new@vendor.example\t新人" in listing and "ops@vendor.example" in listing
    assert vendor_login(client_for(VENDOR), "new@vendor.example", "Kaisha-Unyo-2026!").status_code == 302
    # Disabling ends the vendor's sessions, in the vendor console and in every city.
    city = client_for("nayoro")
    follow(city, open_city(vendor_client))
    assert city.get("/admin/").status_code == 200
    with app.app_context():
        result = runner.invoke(args=["vendor", "disable-staff", "ops@vendor.example"])
    assert result.exit_code == 0 and "(1 city console session(s) ended)" in result.output
    assert vendor_client.get("/vendor/").headers["Location"] == "/vendor/login"
    assert city.get("/admin/").headers["Location"].startswith("/admin/login")


def test_demo_staff_accounts_are_created_once_and_work(app, runner, client_for):
    with app.app_context():
        first = runner.invoke(args=["demo", "staff"])
        assert first.exit_code == 0, first.output
        assert "http://nayoro.localhost/admin/  admin@nayoro.localhost  パスワード Nayoro-Suido-2026!  (admin, created)" in first.output
        assert "http://vendor.localhost/  vendor@vendor.localhost  パスワード Unyo-Jigyosha-2026!  (vendor, created)" in first.output
        again = runner.invoke(args=["demo", "staff"]).output
        assert again.count("unchanged") == 5 and "created" not in again
    assert login_staff(client_for("nayoro"), "admin@nayoro.localhost", "Nayoro-Suido-2026!").headers["Location"] == "/admin/"
    operator = client_for("nayoro")
    login_staff(operator, "operator@nayoro.localhost", "Nayoro-Madoguchi-2026!")
    assert operator.get("/admin/members").status_code == 200 and operator.get("/admin/imports").status_code == 403
    assert login_staff(client_for("kanazawa"), "admin@kanazawa.localhost", "Kanazawa-Suido-2026!").status_code == 302
    assert vendor_login(client_for(VENDOR), "vendor@vendor.localhost", "Unyo-Jigyosha-2026!").headers["Location"] == "/vendor/"


def test_the_readme_lists_every_demo_console_account():
    from waterportal.core.paths import REPO_ROOT
    from waterportal.demo.staff import DEMO_STAFF

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for account in DEMO_STAFF:
        assert f"| `{account.email}` | `{account.password}` |" in readme, account.email
