"""Nobody can lock a member out (issue 9 #2): an attacker's failures slow only unknown
browsers (seconds, never a block), the member's own browser logs in at once, and the member
is mailed, once per window, a single-use expiring link that makes a new browser a known one.
Both cities: Nayoro logs in by email, Kanazawa by login ID (the mail still goes to the email)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from waterportal.accounts.models import MemberUnlockLink
from waterportal.core import throttle
from waterportal.core.auth.throttling import MEMBER as MEMBER_LOGIN
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

WRONG = "Wrong-passw0rd"
EMAIL = "taro@example.jp"
CITIES = {"nayoro": EMAIL, "kanazawa": "taro2026"}  # what the member types at login


@pytest.fixture(params=sorted(CITIES))
def city_member(request, app, nayoro, kanazawa, make_member):
    """(slug, tenant, identifier) of a member in each city."""
    slug = request.param
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    identifier = CITIES[slug]
    make_member(tenant, email=EMAIL, login_id=identifier if slug == "kanazawa" else None)
    return slug, tenant, identifier


def from_address(client, number: int):
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number % 250 + 1}"
    return client


def attack(client_for, slug, identifier, login, times, clock=None):
    """``times`` wrong passwords, each from a new browser and address; with ``clock`` the
    attacker waits out every slowdown, so each attempt is a counted failure."""
    for number in range(times):
        client = from_address(client_for(slug), number)
        response = login(client, identifier, WRONG)
        while clock is not None and response.status_code == 429:
            clock.shift(seconds=int(response.headers["Retry-After"]))
            response = login(client, identifier, WRONG)
        assert response.status_code in (200, 429)


def unlock_mails(outbox, tenant):
    return outbox(tenant, "login_unlock")


def test_the_owners_browser_logs_in_at_once_after_fifty_failures_elsewhere(client_for, city_member, login, clock):
    slug, _tenant, identifier = city_member
    owner = client_for(slug)
    assert login(owner, identifier).status_code == 302
    owner.submit("/logout", {}, form_page="/mypage")
    attack(client_for, slug, identifier, login, 50, clock)
    assert login(owner, identifier).status_code == 302


def test_a_new_browser_is_slowed_for_seconds_not_blocked(client_for, city_member, login, clock):
    slug, _tenant, identifier = city_member
    attack(client_for, slug, identifier, login, 50)
    response = login(client_for(slug), identifier)
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 120  # never the 15-minute block of before
    assert f"あと{seconds}秒お待ち" in response.get_data(as_text=True)
    clock.shift(seconds=seconds)
    assert login(client_for(slug), identifier).status_code == 302


def test_the_delay_grows_with_each_failure_and_stays_capped(client_for, city_member, login, clock):
    slug, _tenant, identifier = city_member
    waits = []
    client = client_for(slug)
    for _ in range(5):
        assert login(client, identifier, WRONG).status_code == 200
    for _ in range(12):
        response = login(client, identifier, WRONG)
        assert response.status_code == 429, (waits, clock.now)
        waits.append(int(response.headers["Retry-After"]))
        clock.shift(seconds=waits[-1])
        assert login(client, identifier, WRONG).status_code == 200
    assert waits == sorted(waits) and waits[0] <= 2 and max(waits) == 120


def test_the_member_gets_one_unlock_link_that_works_once(client_for, city_member, login, outbox, mail_link, clock):
    slug, tenant, identifier = city_member
    attack(client_for, slug, identifier, login, 50)
    mails = unlock_mails(outbox, tenant)
    assert len(mails) == 1 and mails[0]["to"] == EMAIL  # the login-ID city mails the email too
    path = mail_link(mails[0]["body"])
    assert path.startswith("/login/unlock/")
    browser = client_for(slug)
    page = browser.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert login(browser, identifier).status_code == 429  # opening the page changes nothing
    response = browser.submit(path, {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert any(c.startswith("known_device=") for c in response.headers.getlist("Set-Cookie"))
    attack(client_for, slug, identifier, login, 10)  # the attacker goes on
    assert login(browser, identifier).status_code == 302  # this browser is a known one now
    again = client_for(slug)
    assert again.get(path).status_code == 400  # used up
    assert again.submit(path, {}, form_page="/login").status_code == 400
    assert login(client_for(slug), identifier).status_code == 429  # other new browsers still wait


def test_the_unlock_link_expires(client_for, city_member, login, outbox, mail_link, clock):
    slug, tenant, identifier = city_member
    attack(client_for, slug, identifier, login, 6)
    path = mail_link(unlock_mails(outbox, tenant)[0]["body"])
    browser = client_for(slug)
    clock.shift(minutes=61)
    page = browser.get(path)
    assert page.status_code == 400 and "有効期限" in page.get_data(as_text=True)
    assert browser.submit(path, {}, form_page="/login").status_code == 400


def test_only_the_keys_hash_is_stored(app, client_for, city_member, login, outbox, mail_link):
    slug, tenant, identifier = city_member
    attack(client_for, slug, identifier, login, 6)
    key = mail_link(unlock_mails(outbox, tenant)[0]["body"]).rsplit("/", 1)[1]
    with app.app_context(), tenant_context(tenant):
        stored = db.session.scalars(select(MemberUnlockLink.key_hash)).all()
    assert len(stored) == 1 and key not in stored[0] and re.fullmatch(r"[0-9a-f]{64}", stored[0])


def test_at_most_one_mail_per_window_while_the_attack_goes_on(client_for, city_member, login, outbox, clock):
    slug, tenant, identifier = city_member
    attack(client_for, slug, identifier, login, 20, clock)  # waits out each delay: over 15 minutes
    assert len(unlock_mails(outbox, tenant)) == 2


def test_at_most_three_mails_a_day_however_long_the_attack(client_for, city_member, login, outbox, clock):
    """An attacker who keeps an account slowed all day sends its owner three mails, not 96."""
    slug, tenant, identifier = city_member
    for _window in range(5):
        attack(client_for, slug, identifier, login, 6)
        clock.shift(minutes=16)
    assert len(unlock_mails(outbox, tenant)) == 3
    clock.shift(hours=24)
    attack(client_for, slug, identifier, login, 6)
    assert len(unlock_mails(outbox, tenant)) == 4


def test_unknown_identifiers_are_slowed_the_same_way_and_mail_nobody(client_for, city_member, login, outbox,
                                                                   strip_csrf):
    slug, tenant, identifier = city_member
    other = "nobody@example.jp" if slug == "nayoro" else "nobody2026"
    attack(client_for, slug, identifier, login, 6)
    attack(client_for, slug, other, login, 6)
    known, unknown = login(client_for(slug), identifier), login(client_for(slug), other)
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert strip_csrf(known.get_data(as_text=True)).replace(identifier, "X") == strip_csrf(
        unknown.get_data(as_text=True)).replace(other, "X")
    assert len(outbox(tenant)) == 1


def test_one_address_spraying_many_accounts_is_blocked(client_for, app, nayoro, make_member, login, clock):
    make_member(nayoro, email=EMAIL)
    sprayer = from_address(client_for("nayoro"), 7)
    for number in range(30):
        assert login(sprayer, f"user{number}@example.jp", WRONG).status_code == 200
    response = login(sprayer, EMAIL)  # another account, the right password, the same address
    assert response.status_code == 429 and "分ほど時間をおいて" in response.get_data(as_text=True)
    assert login(from_address(client_for("nayoro"), 8), EMAIL).status_code == 302
    with app.app_context():
        assert throttle.allowed(nayoro, MEMBER_LOGIN.account, EMAIL)  # no account was slowed by it
