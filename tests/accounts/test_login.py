"""Login pages per city mode, logging in by email and by login ID, one message for every
wrong credential, CSRF, safe redirects, and 「次回からIDの入力を省略」."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"


def test_email_city_login_page_follows_its_manual(client, clock):
    response = client.get("/login")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>名寄市上下水道ポータル</h1>" in body
    for text in ("メールアドレス", "パスワード", ">ログイン</button>", "パスワードを忘れた場合はこちら", "初めての方はこちら"):
        assert text in body, text
    assert 'href="/register/"' in body or 'href="/register"' in body
    assert 'href="/password/forgot"' in body
    assert 'type="email"' in body and 'type="password"' in body
    # Kanazawa's boxes are driven by settings Nayoro does not have.
    assert "ご利用時間の案内" not in body and "セキュリティ確保のために" not in body
    assert "会員登録する" not in body


def test_password_toggle_is_progressive_enhancement(client, clock):
    body = client.get("/login").get_data(as_text=True)
    # The toggle is hidden until the script reveals it: without JS the field just works.
    assert 'data-password-toggle="password"' in body
    assert "hidden>パスワードを表示</button>" in body
    with client.get("/_theme/default/password-toggle.js") as script:
        assert script.status_code == 200
        assert "button.hidden = false" in script.get_data(as_text=True)


def test_login_id_city_login_page_follows_its_manual(client_for, clock):
    body = client_for("kanazawa").get("/login").get_data(as_text=True)
    expected = [
        "金沢市上下水道ポータルサイト ログイン",
        "ご利用時間の案内",
        "ご利用可能時間は、毎日AM7:00〜AM2:00の間です。",
        "初めて利用されるお客さま",
        "会員登録する",
        "金沢市上下水道ポータルサイト会員のお客さま",
        "ログインID",
        "パスワード",
        ">ログイン</button>",
        "次回からIDの入力を省略",
        "ログインID/パスワードを忘れた方はこちら",
        "セキュリティ確保のために",
        "<li>不正ログイン防止のため、他のサービスのパスワードの使い回しはお止め下さい。</li>",
        "パスワード変更はログイン後、会員サポートページよりお手続きください。",
    ]
    for text in expected:
        assert text in body, text
    # the login first (a phone's order); on a PC the stylesheet puts 会員登録 on the left as in the
    # manual (tests/browser/test_citizen_screens.py checks both)
    assert body.index("会員のお客さま") < body.index("初めて利用されるお客さま") < body.index("セキュリティ確保のために")
    assert 'href="/recover"' in body
    assert "初めての方はこちら" not in body


def test_login_by_email(client, nayoro, make_member, login, app, clock):
    member_id = make_member(nayoro, email="taro@example.jp")
    response = login(client, "Taro@Example.JP")
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"
    page = client.get("/mypage").get_data(as_text=True)
    assert "会員さま専用サイト" in page
    with app.app_context(), tenant_context(nayoro):
        member = db.session.get(Member, member_id)
        assert member.last_login_at == dt.datetime(2026, 11, 18, 1, 0)  # 10:00 JST in UTC


def test_login_by_login_id(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="Hanako01")
    client = client_for("kanazawa")
    response = login(client, "ｈａｎａｋｏ０１")  # full-width and other case still match
    assert response.status_code == 302
    assert "会員さま専用サイト" in client.get("/mypage").get_data(as_text=True)


def test_email_does_not_log_in_a_login_id_city(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="hanako01")
    response = login(client_for("kanazawa"), "hanako@example.jp")
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません。" in response.get_data(as_text=True)


def test_wrong_password_and_unknown_account_answer_identically(client_for, nayoro, make_member, login, strip_csrf, clock):
    make_member(nayoro, email="taro@example.jp")
    wrong_password = login(client_for("nayoro"), "taro@example.jp", "Wrong0ne!x")
    unknown = login(client_for("nayoro"), "nobody@example.jp", "Wrong0ne!x")
    assert wrong_password.status_code == unknown.status_code == 200
    first = strip_csrf(wrong_password.get_data(as_text=True)).replace("taro@example.jp", "X")
    second = strip_csrf(unknown.get_data(as_text=True)).replace("nobody@example.jp", "X")
    assert first == second
    assert "メールアドレスまたはパスワードが正しくありません。" in first
    assert sorted(wrong_password.headers.keys()) == sorted(unknown.headers.keys())


def test_typed_id_is_kept_but_password_is_not(client, login, clock):
    body = login(client, "keep@example.jp", "Secret-typed1").get_data(as_text=True)
    assert 'value="keep@example.jp"' in body
    assert "Secret-typed1" not in body


def test_empty_fields_get_errors_next_to_them(client, clock):
    body = client.submit("/login", {"identifier": "", "password": ""}).get_data(as_text=True)
    assert 'id="identifier-error">メールアドレスを入力してください。' in body
    assert 'id="password-error">パスワードを入力してください。' in body


def test_login_post_without_csrf_token_is_refused(client, nayoro, make_member, clock):
    make_member(nayoro, email="taro@example.jp")
    response = client.post("/login", data={"identifier": "taro@example.jp", "password": PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "リクエストが正しくありません" in body
    assert "再読み込みしてからもう一度送信してください" in body
    assert client.get("/mypage").status_code == 302


def test_login_required_redirects_to_login_with_japanese_message(client, clock):
    response = client.get("/mypage")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "ログインしてください。" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_root_is_login_page_or_mypage(client, nayoro, make_member, login, clock):
    assert client.get("/").headers["Location"] == "/login"
    make_member(nayoro, email="taro@example.jp")
    login(client, "taro@example.jp")
    assert client.get("/").headers["Location"] == "/mypage"
    assert client.get("/login").headers["Location"] == "/mypage"


@pytest.mark.parametrize("target, expected", [
    ("/mypage", "/mypage"),
    ("https://evil.example/", "/mypage"),
    ("//evil.example/", "/mypage"),
    ("/\\evil.example", "/mypage"),
    ("/mypage%0d%0aSet-Cookie:%20x=1", "/mypage"),
    ("/mypage%00", "/mypage"),
])
def test_next_goes_only_to_paths_of_this_site(client, nayoro, make_member, clock, target, expected):
    make_member(nayoro, email="taro@example.jp")
    response = client.submit(
        f"/login?next={target}", {"identifier": "taro@example.jp", "password": PASSWORD}, form_page="/login"
    )
    assert response.headers["Location"] == expected


def test_a_logged_in_member_sent_to_login_with_a_line_break_in_next_lands_on_mypage(client, nayoro, make_member,
                                                                                    login, clock):
    make_member(nayoro, email="taro@example.jp")
    login(client, "taro@example.jp")
    response = client.get("/login?next=/bills%0d%0aX-Injected:%201")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"


# --- 次回からIDの入力を省略 --------------------------------------------------------------------

def _cookie(client, name):
    return client.get_cookie(name, domain="kanazawa.localhost") or client.get_cookie(name)


def test_remember_id_prefills_but_never_authenticates(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="hanako01")
    client = client_for("kanazawa")
    response = login(client, "hanako01", remember=True)
    assert response.status_code == 302
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remembered_id="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Domain" not in header
    assert "Max-Age=31536000" in header  # login.remember_id_days = 365
    assert "Passw0rd" not in header and "session" not in header
    client.post("/logout", data={"csrf_token": client.csrf_token("/mypage")})

    # A new browser with only the remembered-ID cookie: prefilled, but not logged in.
    fresh = client_for("kanazawa")
    fresh.set_cookie("remembered_id", _cookie(client, "remembered_id").value, domain="kanazawa.localhost")
    assert fresh.get("/mypage").status_code == 302
    page = fresh.get("/login").get_data(as_text=True)
    assert 'value="hanako01"' in page
    assert '<input checked id="remember_id" name="remember_id" type="checkbox" value="y">' in page
    assert 'name="password" required type="password" value=""' in page


def test_unchecking_remember_id_removes_the_cookie(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="hanako01")
    client = client_for("kanazawa")
    login(client, "hanako01", remember=True)
    assert _cookie(client, "remembered_id") is not None
    client.post("/logout", data={"csrf_token": client.csrf_token("/mypage")})
    login(client, "hanako01", remember=False)
    assert _cookie(client, "remembered_id") is None
    assert 'value="hanako01"' not in client_for("kanazawa").get("/login").get_data(as_text=True)


def test_remembered_id_of_another_city_is_ignored(client_for, kanazawa, make_member, login, clock):
    make_member(kanazawa, email="hanako@example.jp", login_id="hanako01")
    client = client_for("kanazawa")
    login(client, "hanako01", remember=True)
    stolen = _cookie(client, "remembered_id").value
    nayoro = client_for("nayoro")
    nayoro.set_cookie("remembered_id", stolen, domain="nayoro.localhost")
    assert "hanako01" not in nayoro.get("/login").get_data(as_text=True)


def test_rehash_on_login_when_parameters_change(client, nayoro, make_member, login, app, clock):
    from argon2 import PasswordHasher, Type

    from waterportal.core.auth.passwords import needs_rehash

    old = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    member_id = make_member(nayoro, email="old@example.jp")
    with app.app_context(), tenant_context(nayoro):
        db.session.get(Member, member_id).password_hash = old
        db.session.commit()
        assert needs_rehash(old)
    assert login(client, "old@example.jp").status_code == 302
    with app.app_context(), tenant_context(nayoro):
        new_hash = db.session.scalar(select(Member.password_hash).where(Member.id == member_id))
    current = (app.config["ARGON2_MEMORY_KIB"], app.config["ARGON2_TIME_COST"], app.config["ARGON2_PARALLELISM"])
    assert new_hash != old and new_hash.startswith("$argon2id$v=19$m={},t={},p={}$".format(*current))
    assert not needs_rehash(new_hash)


def test_hours_notice_falls_back_to_service_hours(kanazawa):
    from dataclasses import replace
    from types import MappingProxyType

    from waterportal.accounts.views import login_notices

    def login_notice(tenant):
        return login_notices(tenant)[0]

    settings = dict(kanazawa.settings)
    settings["texts"] = MappingProxyType({**kanazawa.settings["texts"], "login_notice": ""})
    derived = login_notice(replace(kanazawa, settings=MappingProxyType(settings)))
    assert derived == "ご利用可能時間は、毎日 07:00〜02:00 の間です。"
    settings["service_hours"] = None
    assert login_notice(replace(kanazawa, settings=MappingProxyType(settings))) == ""
