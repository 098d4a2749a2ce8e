"""Server-side sessions: fixation, logout replay, idle timeout, cross-city cookies, cookie
attributes, and the minimal 会員さま専用サイト."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from waterportal.accounts.models import Member, MemberSession
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

JST = ZoneInfo("Asia/Tokyo")
EMAIL = "taro@example.jp"


def session_cookie(client, host="nayoro.localhost"):
    cookie = client.get_cookie("session", domain=host)
    return cookie.value if cookie else None


def replay(client_for, value, slug="nayoro"):
    """A new browser that sends only ``value`` as its session cookie."""
    other = client_for(slug)
    other.set_cookie("session", value, domain=f"{slug}.localhost")
    return other


@pytest.fixture
def taro(nayoro, make_member):
    return make_member(nayoro, email=EMAIL)


def test_session_is_renewed_at_login(client, taro, login, clock):
    client.get("/login")
    with client.session_transaction(base_url="http://nayoro.localhost") as sess:
        sess["planted"] = "by-attacker"
    before = session_cookie(client)
    assert login(client, EMAIL).status_code == 302
    after = session_cookie(client)
    assert before and after and before != after
    with client.session_transaction(base_url="http://nayoro.localhost") as sess:
        assert "planted" not in sess
        assert sess["_user_id"].count(":") == 3


def test_a_planted_session_cookie_is_not_logged_in_by_someone_else_s_login(client, client_for, taro, login, clock):
    client.get("/login")
    planted = session_cookie(client)
    victim = replay(client_for, planted)
    login(victim, EMAIL)
    # The attacker still holds the pre-login cookie: it must not be the victim's session.
    assert replay(client_for, planted).get("/mypage").status_code == 302


def test_logout_ends_the_session_server_side(client, client_for, taro, login, clock):
    login(client, EMAIL)
    copied = session_cookie(client)
    assert replay(client_for, copied).get("/mypage").status_code == 200
    response = client.post("/logout", data={"csrf_token": client.csrf_token("/mypage")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "ログアウトしました。" in client.get("/login").get_data(as_text=True)
    assert client.get("/mypage").status_code == 302
    # Replaying the cookie copied before logout: not logged in.
    replayed = replay(client_for, copied).get("/mypage")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")


def test_logout_only_by_post_with_csrf(client, taro, login, clock):
    login(client, EMAIL)
    assert client.get("/logout").status_code == 405
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert client.get("/mypage").status_code == 200


def test_session_key_is_stored_hashed(client, taro, nayoro, login, app, clock):
    login(client, EMAIL)
    with client.session_transaction(base_url="http://nayoro.localhost") as sess:
        key = sess["_user_id"].rsplit(":", 1)[1]
    with app.app_context(), tenant_context(nayoro):
        rows = db.session.scalars(select(MemberSession)).all()
    assert len(rows) == 1 and rows[0].key_hash != key and len(rows[0].key_hash) == 64


def test_idle_timeout_follows_city_setting(client, taro, login, clock):
    login(client, EMAIL)  # Nayoro: login.idle_timeout_minutes = 30
    clock.shift(minutes=29)
    assert client.get("/mypage").status_code == 200  # activity moves the idle clock
    clock.shift(minutes=29)
    assert client.get("/mypage").status_code == 200
    clock.shift(minutes=30)
    response = client.get("/mypage")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "一定時間操作がなかったため、自動的にログアウトしました。" in page
    clock.shift(minutes=1)
    assert client.get("/mypage").status_code == 302  # stays ended


def test_kanazawa_idle_timeout_is_shorter(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="hanako01")
    client = client_for("kanazawa")
    login(client, "hanako01")  # login.idle_timeout_minutes = 20
    clock.shift(minutes=20)
    assert client.get("/mypage").status_code == 302


def test_sessions_have_a_maximum_age_even_when_active(client, taro, login, clock):
    login(client, EMAIL)
    for _ in range(48):  # almost 24 hours of activity, every 30 minutes less a second
        clock.shift(minutes=29, seconds=59)
        assert client.get("/mypage").status_code == 200
    clock.shift(minutes=29)
    assert client.get("/mypage").status_code == 302  # PERMANENT_SESSION_LIFETIME = 24 h


def test_cookie_from_one_city_is_refused_by_the_other(client, client_for, taro, kanazawa, make_member, login, clock):
    make_member(kanazawa, email=EMAIL, login_id="taro0001")  # the same person in both cities
    login(client, EMAIL)
    copied = session_cookie(client)
    assert replay(client_for, copied, "nayoro").get("/mypage").status_code == 200
    other_city = replay(client_for, copied, "kanazawa").get("/mypage")
    assert other_city.status_code == 302
    assert other_city.headers["Location"].startswith("/login")


def test_login_again_ends_the_previous_session(client, client_for, taro, login, clock):
    login(client, EMAIL)
    first = session_cookie(client)
    assert client.get("/login").headers["Location"] == "/mypage"
    token = client.csrf_token("/mypage")
    assert client.post("/login", data={"csrf_token": token, "identifier": EMAIL, "password": "Passw0rd!x"}).status_code == 302
    assert replay(client_for, first).get("/mypage").status_code == 302
    assert client.get("/mypage").status_code == 200


def test_cookie_attributes(client, taro, login, clock, monkeypatch, app):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # as config/production.toml
    response = login(client, EMAIL, remember=True)
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remembered_id"):
        header = cookies[name]
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header, header
        assert "Domain=" not in header, header  # host-only
    assert not any(name.startswith("remember_token") for name in cookies)  # Flask-Login's is never used


def test_production_config_marks_cookies_secure():
    import tomllib

    from waterportal.core.paths import CONFIG_DIR

    production = tomllib.loads((CONFIG_DIR / "production.toml").read_text(encoding="utf-8"))
    default = tomllib.loads((CONFIG_DIR / "default.toml").read_text(encoding="utf-8"))
    assert production["SESSION_COOKIE_SECURE"] is True
    assert default["SESSION_COOKIE_DOMAIN"] is False and default["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- 会員さま専用サイト ------------------------------------------------------------------------

@pytest.mark.parametrize("hour, minute, words", [
    (4, 59, "こんばんは"), (5, 0, "おはようございます"), (10, 59, "おはようございます"),
    (11, 0, "こんにちは"), (17, 59, "こんにちは"), (18, 0, "こんばんは"), (23, 0, "こんばんは"),
])
def test_greeting_follows_city_time(client, taro, login, clock, hour, minute, words):
    clock.move_to(dt.datetime(2026, 11, 20, hour, minute, tzinfo=JST))
    login(client, EMAIL)
    body = client.get("/mypage").get_data(as_text=True)
    assert f"水道太郎さま、{words}。" in body
    assert "いつも名寄市上下水道ポータルをご利用いただき、誠にありがとうございます。" in body


def test_mypage_lists_linked_customer_numbers_and_logout(client, nayoro, kanazawa, taro, make_contract, login, app, clock):
    first = make_contract(nayoro, customer_number="00012345678")
    second = make_contract(nayoro, customer_number="00087654321")
    make_contract(nayoro, customer_number="00099999999")  # not linked
    with app.app_context(), tenant_context(nayoro):
        db.session.add_all([MemberContract(member_id=taro, contract_id=first), MemberContract(member_id=taro, contract_id=second)])
        db.session.commit()
    login(client, EMAIL)
    body = client.get("/mypage").get_data(as_text=True)
    assert "会員さま専用サイト" in body and "お客様番号" in body  # Nayoro's word
    assert body.index("00012345678") < body.index("00087654321")
    assert "00099999999" not in body
    assert ">ログアウト</button>" in body and 'action="/logout"' in body
    assert "照会ができるのは" not in body


def test_mypage_tells_when_data_becomes_visible(client, nayoro, taro, login, app, clock):
    with app.app_context(), tenant_context(nayoro):
        db.session.get(Member, taro).data_visible_from = dt.date(2026, 11, 24)
        db.session.commit()
    login(client, EMAIL)
    assert "使用量や料金の照会ができるのは2026年11月24日からです。" in client.get("/mypage").get_data(as_text=True)
    clock.move_to(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JST))
    login(client, EMAIL)
    assert "照会ができるのは" not in client.get("/mypage").get_data(as_text=True)
