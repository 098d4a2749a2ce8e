"""Passwords: argon2id parameters, the platform floor on new passwords (length, no
truncation, common passwords), as applied by the reset form."""
from __future__ import annotations

import pytest
from argon2 import extract_parameters

from waterportal.core.auth.passwords import hash_password, needs_rehash, verify_password

EMAIL = "taro@example.jp"


def test_argon2id_parameters_match_docs():
    """Production runs config/default.toml overlaid by production.toml: t=3, 64 MiB, p=2."""
    import tomllib

    from waterportal.core.auth.passwords import hasher_for
    from waterportal.core.paths import CONFIG_DIR

    config = {}
    for name in ("default.toml", "production.toml"):
        config.update(tomllib.loads((CONFIG_DIR / name).read_text(encoding="utf-8")))
    params = extract_parameters(hasher_for(config).hash("Passw0rd!x"))
    assert (params.type.name, params.time_cost, params.memory_cost, params.parallelism) == ("ID", 3, 65536, 2)
    assert (params.hash_len, params.salt_len) == (32, 16)


def test_hashing_follows_the_configuration(app):
    with app.app_context():
        params = extract_parameters(hash_password("Passw0rd!x"))
    assert (params.type.name, params.time_cost, params.memory_cost) == (
        "ID", app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"],
    )


def test_unknown_account_costs_a_real_verify_and_fails():
    assert verify_password(None, "anything") is False
    assert needs_rehash("not-a-hash")


@pytest.fixture
def reset_link(client, nayoro, make_member, outbox, mail_link, clock):
    make_member(nayoro, email=EMAIL)
    client.submit("/password/forgot", {"email": EMAIL})
    return mail_link(outbox(nayoro, "password_reset")[-1]["body"])


def choose(client, link, password):
    return client.submit(link, {"password": password, "password_confirm": password})


def test_shorter_than_the_floor_is_refused(client, reset_link, clock):
    body = choose(client, reset_link, "Ab1!xyz").get_data(as_text=True)
    assert "パスワードは8文字以上で入力してください。" in body


def test_common_passwords_are_refused(client, reset_link, clock):
    body = choose(client, reset_link, "Password1!").get_data(as_text=True)
    assert "よく使われていて推測されやすいパスワードです。" in body


def test_password_containing_the_email_is_refused(client, reset_link, clock):
    body = choose(client, reset_link, "Taro@example.jp1A!").get_data(as_text=True)
    assert "メールアドレスやログインIDを含むパスワードは使用できません。" in body


def test_long_passwords_are_allowed_and_never_truncated(client, client_for, reset_link, login, clock):
    long_password = "Aa1!" + "x" * 96  # 100 characters
    assert choose(client, reset_link, long_password).status_code == 302
    assert login(client_for("nayoro"), EMAIL, long_password[:-1] + "y").status_code == 200
    assert login(client_for("nayoro"), EMAIL, long_password[:72]).status_code == 200
    assert login(client_for("nayoro"), EMAIL, long_password).status_code == 302


def test_unknown_account_and_wrong_password_do_the_same_work(app, nayoro, kanazawa, make_member, monkeypatch):
    """「the same time taken either way」: one argon2id verify at the current parameters and
    the same database statements, whether the account exists or not (both cities' modes)."""
    from argon2 import PasswordHasher
    from sqlalchemy import event

    from waterportal.accounts.services import authenticate
    from waterportal.extensions import db
    from waterportal.tenancy.context import tenant_context

    make_member(nayoro, email=EMAIL)
    make_member(kanazawa, email=EMAIL, login_id="taro0001")
    original = PasswordHasher.verify
    work: list = []

    def counting_verify(self, stored, password):
        work.append(("verify", extract_parameters(stored)))
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)

    def attempt(city, identifier, address):
        del work[:]
        with app.test_request_context(), tenant_context(city):
            engine = db.engine

            def record(conn, cursor, statement, *args):
                if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):  # the test harness's own
                    work.append(("sql", statement))

            event.listen(engine, "before_cursor_execute", record)
            try:
                result = authenticate(city, identifier, "Wrong0ne!x", address)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            db.session.rollback()
        assert not result.ok and not result.throttled
        return list(work)

    for city, known, unknown in ((nayoro, EMAIL, "nobody@example.jp"), (kanazawa, "taro0001", "nobody01")):
        wrong_password = attempt(city, known, "192.0.2.1")
        no_such_account = attempt(city, unknown, "192.0.2.2")
        assert wrong_password == no_such_account
        [(_, params)] = [item for item in wrong_password if item[0] == "verify"]
        assert (params.type.name, params.time_cost, params.memory_cost) == (
            "ID", app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"],
        )
