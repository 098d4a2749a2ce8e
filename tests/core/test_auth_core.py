"""The auth core (core/auth/): one session manager and one password policy for members,
city staff and vendor staff, exercised the same way for each kind."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.accounts.session import MEMBER
from waterportal.admin.models import StaffMember
from waterportal.admin.sessions import STAFF
from waterportal.core.auth import pending, sessions
from waterportal.core.auth.passwords import password_problems
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.vendor_console.auth import VENDOR
from waterportal.vendor_console.models import VendorStaff

JST = ZoneInfo("Asia/Tokyo")
KINDS = {"member": MEMBER, "staff": STAFF, "vendor": VENDOR}


def _account(kind: str, suffix: str = ""):
    """A fresh account of ``kind`` in the current city (vendors belong to none)."""
    email = f"auth{suffix}@example.jp"
    if kind == "member":
        account = Member(email=email, nickname="水道太郎", password_hash="x")
    elif kind == "staff":
        account = StaffMember(email=email, password_hash="x")
    else:
        account = VendorStaff(email=email, password_hash="x")
    db.session.add(account)
    db.session.flush()
    return account


@pytest.fixture
def setting(app, nayoro):
    """``setting(kind)`` -> (spec, account, city) inside the city's context."""
    with app.app_context(), tenant_context(nayoro):
        yield lambda kind: (KINDS[kind], _account(kind), nayoro if KINDS[kind].per_city else None)


def _token(spec, account, key):
    return sessions.make_token(account, key, per_city=spec.per_city)


def _row(spec, key):
    model = spec.session_model
    return db.session.scalar(select(model).where(model.key_hash == sessions.hash_key(key)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_lives_until_idle_then_is_ended_for_good(setting, clock, kind):
    spec, account, tenant = setting(kind)
    key = sessions.start(spec, account, remote_addr="203.0.113.5")
    token = _token(spec, account, key)
    assert _row(spec, key).key_hash != key  # only the hash is stored
    assert sessions.load(spec, token, tenant).account is account

    clock.shift(seconds=spec.idle(tenant).total_seconds() - 1)
    loaded = sessions.load(spec, token, tenant)
    assert loaded.account is account and loaded.ended is None  # activity moved the idle clock
    clock.shift(seconds=spec.idle(tenant).total_seconds())
    loaded = sessions.load(spec, token, tenant)
    assert loaded.account is None and loaded.ended == "idle"
    assert _row(spec, key).end_reason == "idle"
    clock.shift(seconds=1)
    assert sessions.load(spec, token, tenant) == sessions.Loaded()  # ended rows stay ended


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_ends_at_its_maximum_age_however_active(setting, clock, kind):
    spec, account, tenant = setting(kind)
    token = _token(spec, account, sessions.start(spec, account))
    step = spec.idle(tenant) / 2
    for _ in range(int(spec.max_age() / step) - 1):
        clock.shift(seconds=step.total_seconds())
        assert sessions.load(spec, token, tenant).account is account
    clock.shift(seconds=step.total_seconds())
    assert sessions.load(spec, token, tenant).ended == "max_age"


@pytest.mark.parametrize("kind", KINDS)
def test_activity_is_written_at_most_once_per_touch_interval(setting, clock, kind):
    spec, account, tenant = setting(kind)
    key = sessions.start(spec, account)
    started = _row(spec, key).last_seen_at
    clock.shift(seconds=spec.touch_interval.total_seconds() - 1)
    sessions.load(spec, _token(spec, account, key), tenant)
    assert _row(spec, key).last_seen_at == started
    clock.shift(seconds=1)
    sessions.load(spec, _token(spec, account, key), tenant)
    assert _row(spec, key).last_seen_at > started


@pytest.mark.parametrize("kind", KINDS)
def test_a_copied_token_is_refused_after_logout(setting, clock, kind):
    spec, account, tenant = setting(kind)
    key = sessions.start(spec, account)
    copied = _token(spec, account, key)
    sessions.end(spec, key, "logout")
    assert sessions.load(spec, copied, tenant).account is None
    assert _row(spec, key).end_reason == "logout"


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_version_bump_ends_every_session(setting, clock, kind):
    spec, account, tenant = setting(kind)
    tokens = [_token(spec, account, sessions.start(spec, account)) for _ in range(2)]
    assert all(sessions.load(spec, token, tenant).account is account for token in tokens)
    account.session_version += 1
    assert all(sessions.load(spec, token, tenant).account is None for token in tokens)


@pytest.mark.parametrize("kind", KINDS)
def test_end_all_keeps_only_the_named_session(setting, clock, kind):
    spec, account, tenant = setting(kind)
    keep, other = sessions.start(spec, account), sessions.start(spec, account)
    assert sessions.end_all(spec, account, "password_changed", keep_key=keep) == 1
    assert sessions.load(spec, _token(spec, account, keep), tenant).account is account
    assert sessions.load(spec, _token(spec, account, other), tenant).account is None


@pytest.mark.parametrize("kind", KINDS)
def test_forged_and_malformed_tokens_are_refused(setting, clock, kind):
    spec, account, tenant = setting(kind)
    key = sessions.start(spec, account)
    other = _account(kind, "-other")
    for token in ("", "garbage", "1:2", _token(spec, account, ""), _token(spec, account, key + "x"),
                  _token(spec, other, key)):
        assert sessions.load(spec, token, tenant).account is None, token


@pytest.mark.parametrize("kind", ["staff", "vendor"])
def test_a_disabled_account_has_no_session(setting, clock, kind):
    spec, account, tenant = setting(kind)
    token = _token(spec, account, sessions.start(spec, account))
    account.disabled = True
    assert sessions.load(spec, token, tenant).account is None


@pytest.mark.parametrize("kind", ["member", "staff"])
def test_a_city_token_is_worthless_in_another_city(setting, clock, kind, kanazawa):
    spec, account, tenant = setting(kind)
    token = _token(spec, account, sessions.start(spec, account))
    assert sessions.load(spec, token, kanazawa).account is None
    assert sessions.load(spec, token, None).account is None
    assert sessions.load(spec, token, tenant).account is account


@pytest.mark.parametrize("kind", ["staff", "vendor"])
def test_the_cookie_session_rotates_and_the_pending_marker_expires(app, setting, clock, kind):
    spec, account, tenant = setting(kind)
    with app.test_request_context():
        pending.set_pending(spec, account)
        assert pending.pending_account(spec, tenant) is account
        first = sessions.start_in_cookie(spec, account, "203.0.113.5")
        assert pending.pending_account(spec, tenant) is None  # a login drops the marker
        second = sessions.start_in_cookie(spec, account, "203.0.113.5")
        assert _row(spec, first.rsplit(":", 1)[-1]).end_reason == "relogin"
        assert sessions.load_from_cookie(spec, tenant).account is account
        sessions.end_in_cookie(spec)
        assert sessions.load(spec, second, tenant).account is None

        pending.set_pending(spec, account)
        clock.shift(seconds=pending.PENDING_SECONDS + 1)
        assert pending.pending_account(spec, tenant) is None


# --- one password policy for every caller ---------------------------------------------------

POLICY = {"min_length": 8, "allowed_symbols": "!?#$&()-_.@"}


@pytest.mark.parametrize(("password", "identifiers"), [
    ("xyz-taro.suido@example.jp", {"email": "Taro.Suido@example.jp"}),  # the address itself
    ("xyztarosuido99", {"email": "tarosuido@example.jp"}),  # its local part
    ("kenroku2026", {"login_id": "Kenroku"}),
    ("yamadahanako7", {"name": "Yamada Hanako"}),  # spaces dropped: no password holds one
])
def test_no_password_contains_an_identifier_of_its_account(password, identifiers):
    assert password_problems(password, POLICY, **identifiers) == ["メールアドレスやログインIDを含むパスワードは使用できません。"]


def test_short_identifiers_and_absent_ones_refuse_nothing():
    assert password_problems("abcdefgh12", POLICY, email="abc@example.jp", login_id="", name=None) == []


def test_the_floor_and_the_maximum_hold_whatever_the_policy():
    assert password_problems("Ab1-x", {**POLICY, "min_length": 4}) == ["パスワードは8文字以上で入力してください。"]
    assert password_problems("a" * 129 + "1", POLICY) == ["パスワードは128文字以内で入力してください。"]


def test_every_caller_refuses_the_same_identifiers(app, nayoro, make_member):
    """Members (password change and registration), staff and vendors: email, local part, name."""
    from waterportal.accounts.services import password_errors
    from waterportal.admin.staff.services import staff_password_problems
    from waterportal.vendor_console.auth import VendorError, create_vendor_staff

    refused = "メールアドレスやログインIDを含むパスワードは使用できません。"
    member_id = make_member(nayoro, email="suidokyoku@example.jp", login_id="mizuho", nickname="Mizu Tama")
    with app.app_context(), tenant_context(nayoro):
        member = db.session.get(Member, member_id)
        for password in ("Suidokyoku1!", "Mizuho-2026!", "Mizutama2026!"):
            assert refused in password_errors(nayoro, member, password), password
        assert refused in staff_password_problems(nayoro, "Suidokyoku-2026!X", "suidokyoku@example.jp")
        assert refused in staff_password_problems(nayoro, "Mizutama-2026!X", "k@example.jp", "Mizu Tama")
        with pytest.raises(VendorError, match=refused):
            create_vendor_staff("suidokyoku@example.jp", "Suidokyoku-2026!X")
        assert password_errors(nayoro, member, "Kawa-Nagare-2026") == []
