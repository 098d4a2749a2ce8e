"""Failed logins are throttled per account identifier (a slowdown of seconds for unknown
browsers, never a block) and per client address; windows expire by themselves and a success
clears the account's counter. The unlock mail: test_login_unlock.py."""
from __future__ import annotations

import re

import pytest

from waterportal.core import throttle
from waterportal.core.auth.throttling import MEMBER as MEMBER_LOGIN

EMAIL = "taro@example.jp"
WRONG = "Wrong-passw0rd"
BLOCKED = "ログインの失敗が続いたため、一時的にログインを制限しています。"
SLOWED = "ログインの失敗が続いているため、新しい端末からのログインに待ち時間を設けています。"


@pytest.fixture
def taro(nayoro, make_member):
    return make_member(nayoro, email=EMAIL)


def fail(login, client, identifier=EMAIL, times=1):
    for _ in range(times):
        assert login(client, identifier, WRONG).status_code == 200


def test_five_failures_slow_the_account_even_with_the_right_password(client, taro, login, clock):
    fail(login, client, times=5)
    response = login(client, EMAIL)
    assert response.status_code == 429
    assert SLOWED in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 2
    assert client.get("/mypage").status_code == 302


def test_unknown_accounts_are_blocked_the_same_way(client_for, taro, login, strip_csrf, clock):
    fail(login, client_for("nayoro"), EMAIL, times=5)
    fail(login, client_for("nayoro"), "nobody@example.jp", times=5)
    known = login(client_for("nayoro"), EMAIL, WRONG)
    unknown = login(client_for("nayoro"), "nobody@example.jp", WRONG)
    assert known.status_code == unknown.status_code == 429
    assert strip_csrf(known.get_data(as_text=True)).replace(EMAIL, "X") == strip_csrf(
        unknown.get_data(as_text=True)).replace("nobody@example.jp", "X")


def test_the_block_is_per_account(client, nayoro, taro, make_member, login, clock):
    make_member(nayoro, email="hanako@example.jp")
    fail(login, client, times=5)
    assert login(client, "hanako@example.jp").status_code == 302


def test_the_slowdown_lasts_seconds(client, taro, login, clock):
    fail(login, client, times=5)
    assert login(client, EMAIL).status_code == 429
    clock.shift(seconds=2)
    assert login(client, EMAIL).status_code == 302


def test_success_clears_the_account_counter(client, client_for, taro, login, clock):
    fail(login, client, times=4)
    assert login(client, EMAIL).status_code == 302
    other = client_for("nayoro")
    fail(login, other, times=4)  # would be the 8th failure without the reset
    assert login(other, EMAIL).status_code == 302


def test_case_and_width_variants_share_one_counter(client, taro, login, clock):
    for variant in ("TARO@example.jp", "taro@EXAMPLE.JP", "ｔａｒｏ@example.jp", "taro@example.jp ", "Taro@Example.jp"):
        fail(login, client, variant)
    assert login(client, EMAIL).status_code == 429


def test_thirty_failures_block_the_client_address(client_for, taro, nayoro, login, app, clock):
    with app.app_context():
        for _ in range(29):  # 29 failures already counted for 127.0.0.1
            throttle.hit(nayoro, MEMBER_LOGIN.address, "127.0.0.1")
    client = client_for("nayoro")
    fail(login, client, "someone@example.jp")  # the 30th
    response = login(client, EMAIL)  # another account, right password, same address
    assert response.status_code == 429
    other_address = client_for("nayoro")
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert login(other_address, EMAIL).status_code == 302


def test_throttles_belong_to_one_city(client_for, taro, kanazawa, make_member, login, clock):
    make_member(kanazawa, email=EMAIL, login_id=EMAIL)
    fail(login, client_for("nayoro"), times=5)
    assert login(client_for("nayoro"), EMAIL).status_code == 429
    assert login(client_for("kanazawa"), EMAIL).status_code == 302


def test_the_address_block_expires_by_itself(client_for, taro, nayoro, login, app, clock):
    with app.app_context():
        for _ in range(30):
            throttle.hit(nayoro, MEMBER_LOGIN.address, "127.0.0.1")
    client = client_for("nayoro")
    assert login(client, EMAIL).status_code == 429
    clock.shift(minutes=14)
    assert login(client, EMAIL).status_code == 429
    clock.shift(minutes=2)
    assert login(client, EMAIL).status_code == 302


def test_a_browser_that_logged_in_before_is_not_locked_out_by_others(client_for, taro, login, clock):
    """Device cookies (OWASP): an attacker's failures block the account for unknown
    browsers only; the owner's browser keeps its own counter and still gets in."""
    owner = client_for("nayoro")
    assert login(owner, EMAIL).status_code == 302
    owner.submit("/logout", {}, form_page="/mypage")
    attacker = client_for("nayoro")
    fail(login, attacker, times=5)
    assert login(attacker, EMAIL).status_code == 429
    assert login(client_for("nayoro"), EMAIL).status_code == 429  # any other browser too
    assert login(owner, EMAIL).status_code == 302


def test_a_device_cookie_has_its_own_limit_and_fits_one_account(client_for, nayoro, taro, make_member, login, clock):
    make_member(nayoro, email="hanako@example.jp")
    device = client_for("nayoro")
    assert login(device, EMAIL).status_code == 302
    device.submit("/logout", {}, form_page="/mypage")
    fail(login, device, times=5)  # the device's own counter
    assert login(device, EMAIL).status_code == 429
    assert login(client_for("nayoro"), EMAIL).status_code == 302  # the account counter is untouched
    # The cookie names its account: for another account it is ignored.
    fail(login, device, "hanako@example.jp", times=5)
    assert login(device, "hanako@example.jp").status_code == 429


def test_device_cookie_is_host_only_httponly_and_signed(client, taro, login, clock):
    response = login(client, EMAIL)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("known_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain" not in cookie
    assert EMAIL not in cookie  # a signed (base64) value naming the account, not the plain address


@pytest.mark.parametrize(("language", "words"), [
    ("en", r"logins from new devices have a waiting time\. Wait [12] more seconds, then try again\."),
    ("easy", r"あと [12]びょう まってから、もう一度 ためして ください。"),
])
def test_the_slowdown_notice_is_in_the_page_language(client, taro, login, clock, language, words):
    client.set_cookie("lang", language, domain=client.host)
    fail(login, client, times=5)
    response = login(client, EMAIL)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert re.search(words, page) and SLOWED not in page
