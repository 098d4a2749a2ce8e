"""Login-ID cities: 「ログインID/パスワードを忘れた方はこちら」 -> email -> secret question ->
mailed link that shows the login ID and sets a new password."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.smtp import body_of, find_url
from waterportal.accounts.recovery.services import RECOVER_ANSWER_IP
from waterportal.accounts.secret import hash_answer
from waterportal.core import throttle

EMAIL = "hanako@example.jp"
QUESTION = "初めて飼ったペットの名前は?"
NEW_PASSWORD = "atarashii-pass9"


@pytest.fixture
def hanako(kanazawa, make_member):
    return make_member(
        kanazawa, email=EMAIL, login_id="hanako01", nickname="金沢花子",
        secret_question=QUESTION, secret_answer_hash=hash_answer("ポチ"),
    )


@pytest.fixture
def kclient(client_for):
    return client_for("kanazawa")


def give_email(client, email=EMAIL):
    return client.submit("/recover", {"email": email})


def answer(client, text):
    return client.submit("/recover/question", {"answer": text})


def test_recovery_end_to_end(kclient, hanako, login, smtp_server, clock):
    start = kclient.get("/recover").get_data(as_text=True)
    assert "ログインID・パスワードをお忘れの方" in start and "メールアドレス" in start
    response = give_email(kclient, "Hanako@Example.jp")
    assert response.headers["Location"] == "/recover/question"
    question_page = kclient.get("/recover/question").get_data(as_text=True)
    assert QUESTION in question_page and "秘密の質問" in question_page

    wrong = answer(kclient, "タマ")
    assert wrong.status_code == 200
    wrong_body = wrong.get_data(as_text=True)
    assert "秘密の質問の答えが正しくありません。" in wrong_body and 'value="タマ"' not in wrong_body
    assert smtp_server.messages == []

    right = answer(kclient, "ぽち")  # hiragana matches the registered katakana
    body = right.get_data(as_text=True)
    assert right.status_code == 200
    assert "ご登録のメールアドレス宛に" in body
    assert "hanako01" not in body  # the answer alone never reveals the login ID

    mail = smtp_server.last_to(EMAIL)
    assert mail["Subject"] == "【金沢市上下水道ポータルサイト】ログインID・パスワード再設定のご案内"
    assert "金沢花子さま" in body_of(mail)
    url = urlsplit(find_url(mail, "/recover/"))
    assert url.netloc == "kanazawa.localhost"
    page = kclient.get(url.path)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "お客さまのログインIDは <strong class=\"login-id\">hanako01</strong> です。" in page.get_data(as_text=True)
    assert "半角英数字10文字以上" in page.get_data(as_text=True)  # Kanazawa's policy

    done = kclient.submit(url.path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/login"
    assert smtp_server.last_to(EMAIL)["Subject"] == "【金沢市上下水道ポータルサイト】パスワード変更のお知らせ"
    assert login(kclient, "hanako01", NEW_PASSWORD).status_code == 302
    assert kclient.get(url.path).status_code == 400  # used up


def test_question_step_needs_the_email_step(kclient, clock):
    assert kclient.get("/recover/question").headers["Location"] == "/recover"


def test_unknown_email_gets_a_stable_plausible_question(kclient, client_for, kanazawa, hanako, strip_csrf, outbox, clock):
    give_email(kclient, "nobody@example.jp")
    first = kclient.get("/recover/question").get_data(as_text=True)
    again = client_for("kanazawa")
    give_email(again, "nobody@example.jp")
    second = again.get("/recover/question").get_data(as_text=True)
    assert strip_csrf(first) == strip_csrf(second)  # the same decoy every time
    questions = kanazawa.settings["registration"]["secret_questions"]
    assert sum(q in first for q in questions) == 1

    known = client_for("kanazawa")
    give_email(known)
    known_page = known.get("/recover/question").get_data(as_text=True)
    # The pages differ only in the echoed address and the question text.
    shown = next(q for q in questions if q in first)
    assert strip_csrf(known_page).replace(EMAIL, "X").replace(QUESTION, "Q") == strip_csrf(first).replace(
        "nobody@example.jp", "X").replace(shown, "Q")

    unknown_wrong = answer(kclient, "ポチ")
    known_wrong = answer(known, "タマ")
    assert unknown_wrong.status_code == known_wrong.status_code == 200
    assert "秘密の質問の答えが正しくありません。" in unknown_wrong.get_data(as_text=True)
    assert outbox(kanazawa) == []


def test_member_without_secret_question_cannot_recover_by_answer(kclient, kanazawa, make_member, outbox, clock):
    make_member(kanazawa, email="noq@example.jp", login_id="noq0001")
    give_email(kclient, "noq@example.jp")
    assert answer(kclient, "").status_code == 200
    assert "秘密の質問の答えが正しくありません。" in answer(kclient, "なんでも").get_data(as_text=True)
    assert outbox(kanazawa) == []


def test_wrong_answers_are_limited_per_email(kclient, client_for, kanazawa, hanako, outbox, clock):
    give_email(kclient)
    for _ in range(5):
        assert answer(kclient, "タマ").status_code == 200
    blocked = answer(kclient, "ポチ")  # even the right answer is refused now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "答えの誤りが続いたため" in blocked.get_data(as_text=True)
    # Another browser (same address) does not reset the count.
    other = client_for("kanazawa")
    give_email(other)
    assert answer(other, "ポチ").status_code == 429
    assert outbox(kanazawa) == []
    clock.shift(minutes=61)  # the window passes by itself
    assert "ご登録のメールアドレス宛に" in answer(kclient, "ポチ").get_data(as_text=True)
    assert len(outbox(kanazawa, "recovery")) == 1


def test_answers_are_limited_per_client_address(kclient, kanazawa, hanako, app, clock):
    with app.app_context():
        for _ in range(20):
            throttle.hit(kanazawa, RECOVER_ANSWER_IP, "127.0.0.1")
    give_email(kclient)
    assert answer(kclient, "ポチ").status_code == 429


def test_recovery_link_expires(kclient, hanako, kanazawa, outbox, mail_link, clock):
    give_email(kclient)
    answer(kclient, "ポチ")
    link = mail_link(outbox(kanazawa, "recovery")[-1]["body"])
    clock.shift(minutes=61)
    response = kclient.get(link)
    assert response.status_code == 400 and "有効期限が切れています" in response.get_data(as_text=True)
    assert 'href="/recover"' in response.get_data(as_text=True)


def test_recovery_link_is_not_a_password_reset_link(kclient, client, hanako, kanazawa, outbox, mail_link, clock):
    give_email(kclient)
    answer(kclient, "ポチ")
    token = mail_link(outbox(kanazawa, "recovery")[-1]["body"]).rsplit("/", 1)[1]
    assert kclient.get(f"/password/reset/{token}").status_code == 400
