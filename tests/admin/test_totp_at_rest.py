"""Issue 9 #4: the staff's and vendor's TOTP secrets are encrypted at rest
(core/auth/secret_box.py), and ``flask keys rotate`` re-encrypts them under the newest key."""
from __future__ import annotations

import re

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.admin.conftest import login_staff
from tests.vendor_console import test_console as console_tests
from tests.vendor_console.test_console import VENDOR, vendor_login
from waterportal.core.auth import second_factor, secret_box
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

make_vendor = console_tests.make_vendor
KEY_OLD, KEY_NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
STAFF_EMAIL = "kanri@kanazawa.example.jp"
VENDOR_EMAIL = "ops@vendor.example"


@pytest.fixture
def keys(app):
    """``keys(NEW, OLD)``: the running app's TOTP_ENCRYPTION_KEYS from now on (restored after)."""
    before = app.config.get(secret_box.CONFIG_KEY)

    def use(*names: str) -> None:
        app.config[secret_box.CONFIG_KEY] = list(names)
        secret_box.init_app(app, required=False)

    yield use
    app.config[secret_box.CONFIG_KEY] = before
    secret_box.init_app(app, required=False)


def raw_secret(app, tenant=None) -> str | None:
    """The ``totp_secret`` column as the database holds it (no ORM, no decryption)."""
    with app.app_context():
        if tenant is None:
            return db.session.execute(text("SELECT totp_secret FROM vendor_staff WHERE email = :e"),
                                      {"e": VENDOR_EMAIL}).scalar_one()
        with tenant_context(tenant):
            return db.session.execute(text("SELECT totp_secret FROM staff_members WHERE email = :e AND tenant_id = :t"),
                                      {"e": STAFF_EMAIL, "t": tenant.id}).scalar_one()


def staff_logs_in_with_code(client_for, secret: str) -> bool:
    client = client_for("kanazawa")
    assert login_staff(client, STAFF_EMAIL).headers["Location"] == "/admin/login/totp"
    return client.submit("/admin/login/totp", {"code": pyotp.TOTP(secret).now()}).headers.get("Location") == "/admin/"


def vendor_logs_in_with_code(client_for, secret: str) -> bool:
    client = client_for(VENDOR)
    assert vendor_login(client).headers["Location"] == "/vendor/login/totp"
    return client.submit("/vendor/login/totp", {"code": pyotp.TOTP(secret).now()}).headers.get("Location") == "/vendor/"


def test_the_database_holds_no_plaintext_totp_secret(app, staff_client, kanazawa, runner, make_vendor,
                                                      client_for, monkeypatch, clock):
    # A staff member enrols on the console page.
    client = staff_client("kanazawa", email=STAFF_EMAIL)
    page = client.get("/admin/account/totp").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    token = re.search(r'name="secret_token"[^>]*value="([^"]+)"', page).group(1)
    client.submit("/admin/account/totp", {"secret_token": token, "code": pyotp.TOTP(secret).now()})
    stored = raw_secret(app, kanazawa)
    assert stored is not None and secret not in stored and secret.lower() not in stored.lower()
    assert stored.startswith("gAAAAA")  # a Fernet token
    # A vendor staff member enrols with `flask vendor totp`.
    make_vendor()
    vendor_secret = pyotp.random_base32(32)
    monkeypatch.setattr(second_factor, "new_totp_secret", lambda: vendor_secret)
    with app.app_context():
        result = runner.invoke(args=["vendor", "totp", VENDOR_EMAIL], input=pyotp.TOTP(vendor_secret).now() + "\n")
    assert result.exit_code == 0, result.output
    stored = raw_secret(app)
    assert stored is not None and vendor_secret not in stored and stored.startswith("gAAAAA")
    # And both still log in with their codes (the next time step: each code works once).
    clock.shift(seconds=30)
    assert staff_logs_in_with_code(client_for, secret)
    assert vendor_logs_in_with_code(client_for, vendor_secret)


def test_rotate_reencrypts_under_the_newest_key_and_the_old_key_can_go(
        app, keys, runner, kanazawa, make_staff, make_vendor, client_for, audit_entries):
    staff_secret, vendor_secret = pyotp.random_base32(32), pyotp.random_base32(32)
    keys(KEY_OLD)
    make_staff(kanazawa, email=STAFF_EMAIL, totp_secret=staff_secret)
    make_vendor(totp_secret=vendor_secret)
    before = raw_secret(app, kanazawa), raw_secret(app)

    keys(KEY_NEW, KEY_OLD)
    with app.app_context():
        result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "staff_members: 1 re-encrypted" in result.output and "kanazawa: 1" in result.output
    assert "vendor_staff: 1 re-encrypted" in result.output and "total: 2" in result.output
    after = raw_secret(app, kanazawa), raw_secret(app)
    assert after[0] != before[0] and after[1] != before[1]
    assert Fernet(KEY_NEW).decrypt(after[0].encode()).decode() == staff_secret
    # Audited in the city, with the count and nothing of the secrets.
    entry = audit_entries(kanazawa, "keys.rotate")[0]
    assert entry[0] == "vendor:cli" and entry[3] == {"secrets": 1}
    assert staff_secret not in str(entry) and after[0] not in str(entry)

    keys(KEY_NEW)  # the old key removed: the codes still verify
    assert staff_logs_in_with_code(client_for, staff_secret)
    assert vendor_logs_in_with_code(client_for, vendor_secret)


def test_rotate_refuses_and_changes_nothing_when_a_key_in_use_is_missing(app, keys, runner, kanazawa, make_staff,
                                                                        make_vendor):
    keys(KEY_OLD)
    make_staff(kanazawa, email=STAFF_EMAIL, totp_secret=pyotp.random_base32(32))
    make_vendor(totp_secret=pyotp.random_base32(32))
    before = raw_secret(app, kanazawa), raw_secret(app)
    keys(KEY_NEW)  # the old key dropped too early
    with app.app_context():
        result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 1 and "nothing was changed" in result.output
    assert KEY_OLD not in result.output and KEY_NEW not in result.output
    assert (raw_secret(app, kanazawa), raw_secret(app)) == before


def test_a_secret_no_key_opens_fails_closed(app, keys, kanazawa, make_staff, client_for):
    """A lost key never turns the second factor off: every code is refused, without a 500."""
    secret = pyotp.random_base32(32)
    keys(KEY_OLD)
    make_staff(kanazawa, email=STAFF_EMAIL, totp_secret=secret)
    keys(KEY_NEW)
    assert not staff_logs_in_with_code(client_for, secret)


def test_rotate_seals_a_secret_stored_in_plain_text_before(app, runner, kanazawa, make_staff, client_for):
    secret = pyotp.random_base32(32)
    staff_id = make_staff(kanazawa, email=STAFF_EMAIL)
    with app.app_context(), tenant_context(kanazawa):  # as the code before encryption stored it
        db.session.execute(text("UPDATE staff_members SET totp_secret = :s WHERE id = :i AND tenant_id = :t"),
                           {"s": secret, "i": staff_id, "t": kanazawa.id})
        db.session.commit()
    assert not staff_logs_in_with_code(client_for, secret)  # plain text is not trusted as a secret
    with app.app_context():
        result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "staff_members: 1 re-encrypted" in result.output
    assert raw_secret(app, kanazawa).startswith("gAAAAA")
    assert staff_logs_in_with_code(client_for, secret)


def test_keys_generate_prints_a_usable_key(app, runner):
    with app.app_context():
        key = runner.invoke(args=["keys", "generate"]).output.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_keys_are_read_newest_first_from_a_list_or_a_string():
    assert secret_box.configured_keys(f"{KEY_NEW}, {KEY_OLD}") == [KEY_NEW, KEY_OLD]
    assert secret_box.configured_keys(f"{KEY_NEW} {KEY_OLD}") == [KEY_NEW, KEY_OLD]
    assert secret_box.configured_keys([KEY_NEW, KEY_OLD]) == [KEY_NEW, KEY_OLD]
    assert secret_box.configured_keys("") == secret_box.configured_keys([]) == []


def test_the_stand_in_key_is_fixed_per_secret_key_and_never_used_when_keys_are_set(app):
    assert secret_box.derived_key("a") == secret_box.derived_key("a") != secret_box.derived_key("b")
    assert Fernet(secret_box.derived_key("dev-only-not-secret"))
    assert app.config[secret_box.CONFIG_KEY] == []  # tests run on the stand-in key
    sealed = Fernet(secret_box.derived_key(app.config["SECRET_KEY"])).encrypt(b"ABCD")
    with app.app_context():
        assert secret_box.unseal(sealed.decode()) == "ABCD"


@pytest.mark.parametrize("value", ["", "not-a-key", [KEY_NEW, "short"]])
def test_production_refuses_to_start_without_a_valid_key(database_url, value):
    from tests.conftest import make_config
    from waterportal.app import ConfigError, create_app

    config = make_config(database_url, ENV="production", SECRET_KEY="p" * 48,
                         RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", TOTP_ENCRYPTION_KEYS=value)
    with pytest.raises(ConfigError, match="FLASK_TOTP_ENCRYPTION_KEYS") as refused:
        create_app(config)
    assert "short" not in str(refused.value) and "not-a-key" not in str(refused.value)  # no key is echoed
    assert create_app({**config, "TOTP_ENCRYPTION_KEYS": [KEY_NEW, KEY_OLD]}).config["ENV_NAME"] == "production"


def test_development_and_testing_start_without_a_key(database_url):
    from tests.conftest import make_config
    from waterportal.app import create_app

    for env in ("development", "testing"):
        app = create_app(make_config(database_url, ENV=env))
        with app.app_context():
            assert secret_box.unseal(secret_box.seal("ABCD")) == "ABCD"


def test_sealing_twice_gives_two_tokens(app):
    with app.app_context():
        first, second = secret_box.seal("ABCD"), secret_box.seal("ABCD")
    assert first != second  # a fresh IV each time: equal secrets do not show as equal rows


def test_the_migration_seals_secrets_stored_in_plain_text_and_its_downgrade_opens_them(tmp_path):
    """`flask db upgrade` on a database from before: the secrets become Fernet tokens."""
    from tests.conftest import make_config
    from tests.test_migrations import _fresh_url
    from waterportal.app import create_app

    url, drop = _fresh_url(tmp_path)
    app = create_app(make_config(url))
    secret = pyotp.random_base32(32)
    read = text("SELECT totp_secret FROM vendor_staff WHERE email = :e")
    try:
        with app.app_context():
            upgrade(revision="78e6e28d7046")  # the schema before encryption
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO vendor_staff (email, name, password_hash, totp_secret, session_version, "
                                  "disabled, created_at) VALUES (:e, '', 'x', :s, 1, false, CURRENT_TIMESTAMP)"),
                             {"e": VENDOR_EMAIL, "s": secret})
            upgrade(revision="c3f8a1d2e4b7")
            with db.engine.connect() as conn:
                sealed = conn.execute(read, {"e": VENDOR_EMAIL}).scalar_one()
            assert sealed.startswith("gAAAAA") and secret_box.unseal(sealed) == secret
            downgrade(revision="-1")
            with db.engine.connect() as conn:
                assert conn.execute(read, {"e": VENDOR_EMAIL}).scalar_one() == secret
            db.engine.dispose()
    finally:
        drop()
