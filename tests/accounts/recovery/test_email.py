"""Email cities: 「パスワードを忘れた場合はこちら」 -> mailed link -> new password.

Links are read from the mail the real SMTP server received (or from the outbox row).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.smtp import body_of, find_url
from waterportal.accounts.services import RESET_IP
from waterportal.core import throttle

EMAIL = "taro@example.jp"
NEW_PASSWORD = "N3w-Passw0rd"


def ask_reset(client, email=EMAIL):
    return client.submit("/password/forgot", {"email": email})


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "nayoro.localhost"  # the city's primary host, not the request's
    return parts.path


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.submit(path, {"password": password, "password_confirm": confirm or password})


@pytest.fixture
def taro(nayoro, make_member):
    return make_member(nayoro, email=EMAIL)


def test_reset_end_to_end_through_real_mail(client, taro, login, smtp_server, clock):
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "パスワードの再設定" in page and "メールアドレス" in page
    response = ask_reset(client, "Taro@Example.jp")
    assert response.status_code == 200
    assert "パスワードの再設定についてのご案内をお送りしました。" in response.get_data(as_text=True)

    mail = smtp_server.last_to(EMAIL)
    assert mail["Subject"] == "【名寄市上下水道ポータル】パスワード再設定のご案内"
    assert "60分以内" in body_of(mail)
    link = path_of(find_url(mail, "/password/reset/"))

    form = client.get(link)
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    assert "新しいパスワード" in form.get_data(as_text=True)
    done = set_password(client, link)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert "パスワードを再設定しました。" in client.get("/login").get_data(as_text=True)

    notice = smtp_server.last_to(EMAIL)
    assert notice["Subject"] == "【名寄市上下水道ポータル】パスワード変更のお知らせ"
    assert "ほかの端末でのログインはすべて終了しました。" in body_of(notice)
    assert login(client, EMAIL).status_code == 200  # the old password no longer works
    assert login(client, EMAIL, NEW_PASSWORD).status_code == 302


def test_reset_link_is_single_use(client, taro, outbox, mail_link, nayoro, clock):
    ask_reset(client)
    link = mail_link(outbox(nayoro, "password_reset")[-1]["body"])
    assert set_password(client, link).status_code == 302
    again = client.get(link)
    assert again.status_code == 400
    assert "このURLは無効です。" in again.get_data(as_text=True)
    replayed = client.submit(link, {"password": "An0ther-pass", "password_confirm": "An0ther-pass"}, form_page="/password/forgot")
    assert replayed.status_code == 400


def test_reset_link_expires_after_60_minutes(client, taro, outbox, mail_link, nayoro, clock):
    ask_reset(client)
    link = mail_link(outbox(nayoro, "password_reset")[-1]["body"])
    clock.shift(minutes=59)
    assert client.get(link).status_code == 200
    clock.shift(minutes=2)
    expired = client.get(link)
    assert expired.status_code == 400
    assert "このURLは有効期限が切れています。" in expired.get_data(as_text=True)


def test_reset_link_dies_when_the_password_changes(client, taro, outbox, mail_link, nayoro, clock):
    ask_reset(client)
    ask_reset(client)
    first, second = (mail_link(m["body"]) for m in outbox(nayoro, "password_reset")[-2:])
    assert set_password(client, second).status_code == 302
    assert client.get(first).status_code == 400


def test_reset_link_of_one_city_is_refused_by_another(client, client_for, taro, kanazawa, make_member, outbox, mail_link, nayoro, clock):
    make_member(kanazawa, email=EMAIL, login_id="taro0001")
    ask_reset(client)
    link = mail_link(outbox(nayoro, "password_reset")[-1]["body"])
    assert client_for("kanazawa").get(link).status_code == 400


def test_tampered_link_is_refused(client, taro, outbox, mail_link, nayoro, clock):
    ask_reset(client)
    link = mail_link(outbox(nayoro, "password_reset")[-1]["body"])
    assert client.get(link[:-3] + "abc").status_code == 400


def test_new_password_follows_city_policy(client, taro, outbox, mail_link, nayoro, clock):
    ask_reset(client)
    link = mail_link(outbox(nayoro, "password_reset")[-1]["body"])
    page = client.get(link).get_data(as_text=True)
    assert "アルファベット大文字を含む" in page  # Nayoro's policy is shown
    weak = set_password(client, link, "password1")
    body = weak.get_data(as_text=True)
    assert weak.status_code == 200
    assert "アルファベット大文字を含めてください。" in body and 'id="password-error"' in body
    assert "password1" not in body  # never echoed back
    mismatch = set_password(client, link, NEW_PASSWORD, "Different-1")
    assert "確認用のパスワードが一致しません。" in mismatch.get_data(as_text=True)
    assert client.get(link).status_code == 200  # failed attempts do not use the link up


def test_reset_ends_every_session_of_the_member(client_for, taro, login, outbox, mail_link, nayoro, clock):
    phone, laptop, helper = client_for("nayoro"), client_for("nayoro"), client_for("nayoro")
    login(phone, EMAIL)
    login(laptop, EMAIL)
    ask_reset(helper)
    set_password(helper, mail_link(outbox(nayoro, "password_reset")[-1]["body"]))
    assert phone.get("/mypage").status_code == 302
    assert laptop.get("/mypage").status_code == 302
    notice = outbox(nayoro, "password_changed")
    assert len(notice) == 1 and notice[0]["to"] == EMAIL


# --- no enumeration ----------------------------------------------------------------------

def _compare_known_and_unknown(client_for, outbox, nayoro, strip_csrf):
    known = ask_reset(client_for("nayoro"), EMAIL)
    unknown = ask_reset(client_for("nayoro"), "nobody@example.jp")
    assert known.status_code == unknown.status_code == 200
    assert strip_csrf(known.get_data(as_text=True)) == strip_csrf(unknown.get_data(as_text=True))
    mails = outbox(nayoro)
    assert [m["to"] for m in mails] == [EMAIL, "nobody@example.jp"]  # the same queue work
    assert "/password/reset/" in mails[0]["body"]
    assert "/password/reset/" not in mails[1]["body"]
    assert "このメールアドレスで登録された会員はありません。" in mails[1]["body"]
    return mails


def test_same_answer_for_registered_and_unknown_address(client_for, taro, outbox, nayoro, strip_csrf, smtp_server, clock):
    _compare_known_and_unknown(client_for, outbox, nayoro, strip_csrf)
    assert len(smtp_server.wait_for(2)) == 2


def test_same_answer_while_the_mail_server_is_down(client_for, taro, outbox, nayoro, strip_csrf, mail_down, clock):
    mails = _compare_known_and_unknown(client_for, outbox, nayoro, strip_csrf)
    assert all(m["status"] == "pending" for m in mails)  # kept in the outbox for a retry


def test_reset_requests_are_throttled_per_address(client_for, taro, outbox, nayoro, strip_csrf, clock):
    for email in (EMAIL, "nobody@example.jp"):
        for _ in range(3):
            assert ask_reset(client_for("nayoro"), email).status_code == 200
    known, unknown = ask_reset(client_for("nayoro"), EMAIL), ask_reset(client_for("nayoro"), "nobody@example.jp")
    assert known.status_code == unknown.status_code == 429
    assert strip_csrf(known.get_data(as_text=True)).replace(EMAIL, "X") == strip_csrf(
        unknown.get_data(as_text=True)).replace("nobody@example.jp", "X")
    assert "時間をおいてから" in known.get_data(as_text=True)
    assert len(outbox(nayoro)) == 6
    clock.shift(minutes=61)
    assert ask_reset(client_for("nayoro"), EMAIL).status_code == 200


def test_reset_requests_are_throttled_per_address_of_the_client(client, nayoro, app, clock):
    with app.app_context():
        for _ in range(20):
            throttle.hit(nayoro, RESET_IP, "127.0.0.1")
    response = ask_reset(client, "someone-new@example.jp")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_each_city_links_to_its_own_recovery(client_for, clock):
    assert client_for("kanazawa").get("/password/forgot").headers["Location"] == "/recover"
    assert client_for("nayoro").get("/recover").headers["Location"] == "/password/forgot"


def test_a_reset_logs_nobody_in(app, client, taro, nayoro, outbox, mail_link, clock):
    """A new password set through the mailed link does not open a session: the citizen logs
    in with it (so a link caught by someone else does not hand over a logged-in browser)."""
    from sqlalchemy import func, select

    from waterportal.accounts.models import MemberSession
    from waterportal.extensions import db
    from waterportal.tenancy.context import tenant_context

    ask_reset(client)
    done = set_password(client, mail_link(outbox(nayoro, "password_reset")[-1]["body"]))
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    mypage = client.get("/mypage")
    assert mypage.status_code == 302 and mypage.headers["Location"].startswith("/login")
    with client.session_transaction(base_url="http://nayoro.localhost") as sess:
        assert "_user_id" not in sess
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(func.count()).select_from(MemberSession)) == 0
