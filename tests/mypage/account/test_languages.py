"""Three languages (issue 13 §10) on registration 2/4-4/4, recovery, the member's account pages,
the inquiry form, the contact and accessibility pages, and the mails they send (delivered
through a real SMTP server, tests/smtp.py), in both demo cities' flows.

An English page must not show any Japanese string of its template (the catalogue covers them
all: tests/core/test_i18n.py); the messages made in Python (form labels and errors, flash
messages, service refusals) follow the page's language too.
"""
from __future__ import annotations

import re

import pytest

from tests.core.test_i18n import template_messages
from tests.mypage.account.conftest import NEW_PASSWORDS, PASSWORD
from tests.registration_support import PHONES, details_data, page
from tests.smtp import body_of, find_code, find_url
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NUMBERS = {"nayoro": "00123456789", "kanazawa": "0012345678"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def untranslated(body: str, *templates: str) -> list[str]:
    """The Japanese strings of ``templates`` (without placeholders) still on an English page."""
    # The city's own texts (terms, privacy, window names) shown in Japanese are marked lang="ja".
    body = re.sub(r'<(\w+)[^>]*\slang="ja"[^>]*>.*?</\1>', "", body, flags=re.S)
    left = []
    for name in templates:
        for message in template_messages(name):
            if "%(" not in message and len(message) >= 3 and JAPANESE.search(message) and message in body:
                left.append(message)
    return left


def with_language(client, code: str):
    client.set_cookie("lang", code, domain=client.host)
    return client


@pytest.mark.parametrize("language", ["en", "easy"])
def test_registration_steps_and_mails_in_the_chosen_language(app, client_for, make_contract, smtp_server, clock,
                                                              slug, language):
    from tests.conftest import city

    tenant = city(app, slug)
    make_contract(tenant, customer_number=NUMBERS[slug], phone=PHONES[slug], holder_name_kana="スイドウタロウ")
    client = with_language(client_for(slug), language)
    email = f"lang-{language}@example.jp"
    assert client.submit("/register/", {"email": email}).status_code == 302
    code_mail = smtp_server.last_to(email)
    expected_subject = {"en": "Your verification code", "easy": "にんしょう コードの おしらせ"}[language]
    assert expected_subject in code_mail["Subject"], code_mail["Subject"]
    assert {"en": "Verification code: ", "easy": "にんしょう コード（認証コード）: "}[language] in body_of(code_mail)
    assert client.submit("/register/verify", {"code": find_code(code_mail)}).status_code == 302

    # 2/4: every label and every message next to its field in the language.
    empty = page(client.submit("/register/details", {"password": "", "customer_number": "12"}))
    if language == "en":
        assert '<span class="step">2/4</span> Your details' in empty
        assert "Please enter your name." in empty and "Enter the customer number as" in empty
        assert "Please read the terms of use and tick" in empty
        assert untranslated(empty, "registration/details.html", "macros/forms.html") == []
        for japanese in ("お名前を入力してください", "利用規約をお読みいただき", "桁の数字で入力してください"):
            assert japanese not in empty
        if slug == "kanazawa":
            assert "Please choose a secret question." in empty and "Please choose" in empty
            assert ">What is your mother&#39;s maiden name?</option>" in empty  # the city's choices too
        assert "Myself (the contract holder)" in empty and "Do not switch to app payment" in empty
        assert ">本人<" not in empty and ">アプリ決済に切り替えない<" not in empty  # the values stay Japanese
    else:
        assert "なまえを いれて ください。" in empty and "2/4 あなたの じょうほう" in empty
    filled = client.submit("/register/details", details_data(tenant, NUMBERS[slug]))
    assert filled.status_code == 302, page(filled)

    confirm = page(client.get("/register/confirm"))
    assert {"en": "3/4 Confirm", "easy": "3/4 たしかめる"}[language] in confirm
    if language == "en":
        assert untranslated(confirm, "registration/confirm.html") == []
        # What was picked is stored as the city wrote it and shown in the language.
        assert "Myself (the contract holder)" in confirm and "<dd>本人</dd>" not in confirm
    else:
        assert "じぶん（けいやくした ひと）" in confirm
    assert client.submit("/register/confirm", {}).status_code == 302
    done = page(client.get("/register/done"))
    if language == "en":
        assert "4/4 Registration complete" in done and "Your registration is complete." in done
        assert re.search(r"(Thu|Fri), Nov (19|20), 2026", done) and "2026年11月" not in done
        assert untranslated(done, "registration/done.html") == []
    else:
        assert "とうろくが おわりました。" in done and "2026年11月" in done  # easy Japanese writes Japanese dates
    welcome = smtp_server.last_to(email)
    assert {"en": "Your registration is complete", "easy": "かいいん とうろくが おわりました"}[language] in welcome["Subject"]


def test_registration_is_japanese_exactly_as_the_manual_writes(app, client, make_contract, smtp_server, clock, nayoro):
    """No cookie: the manual's Japanese, byte for byte where the tests of the steps look."""
    make_contract(nayoro, customer_number=NUMBERS["nayoro"], phone=PHONES["nayoro"], holder_name_kana="スイドウタロウ")
    client.submit("/register/", {"email": "ja@example.jp"})
    mail = smtp_server.last_to("ja@example.jp")
    assert "認証コードのお知らせ" in mail["Subject"]
    assert "ユーザ登録画面にて、以下の認証コードをご入力ください。" in body_of(mail)
    client.submit("/register/verify", {"code": find_code(mail)})
    empty = page(client.submit("/register/details", {}))
    assert "<h1><span class=\"step\">2/4</span> 会員情報入力</h1>" in empty
    assert "利用規約をお読みいただき、「同意する」にチェックを入れてください。" in empty


def test_recovery_pages_and_mails_in_english_and_easy(app, client_for, person, smtp_server, clock, nayoro, kanazawa):
    # Nayoro (email city): パスワードを忘れた場合はこちら, in English; the member reads English mail.
    member = person(nayoro, email="reset@example.jp", language="en")
    client = with_language(client_for("nayoro"), "en")
    form = page(client.get("/password/forgot"))
    assert "<h1>Reset your password</h1>" in form and untranslated(form, "accounts/forgot_password.html") == []
    bad = page(client.submit("/password/forgot", {"email": "no-at-sign"}))
    assert "This is not a valid email address." in bad
    sent = page(client.submit("/password/forgot", {"email": member.email}))
    assert "within 60 minutes" in sent and untranslated(sent, "accounts/forgot_sent.html") == []
    mail = smtp_server.last_to(member.email)
    assert "Resetting your password" in mail["Subject"] and "Dear " in body_of(mail)
    new_password = page(client.get(find_url(mail, "/password/reset/")))
    assert "Set a new password" in new_password and "letters and digits" in new_password
    weak = page(client.submit(find_url(mail, "/password/reset/"), {"password": "short", "password_confirm": "short"},
                              form_page=find_url(mail, "/password/reset/")))
    assert "Your password must have at least" in weak

    # Kanazawa (login-ID city): ログインID・パスワードをお忘れの方, in やさしい日本語.
    person(kanazawa, email="kana@example.jp", secret_question="好きな食べ物は?")
    client = with_language(client_for("kanazawa"), "easy")
    step1 = page(client.get("/recover"))
    assert "ログインIDや パスワードを わすれた かた" in step1 and "1/2 メールアドレス" in step1
    assert client.submit("/recover", {"email": "kana@example.jp"}).status_code == 302
    assert '<p class="secret-question">すきな たべものは?</p>' in page(client.get("/recover/question"))
    wrong = page(client.submit("/recover/question", {"answer": "ちがう"}))
    assert "ひみつの しつもんの こたえが ちがいます。" in wrong and "秘密の質問の答えが正しくありません" not in wrong
    invalid = page(client.get("/recover/not-a-token"))
    assert "この URLは つかえません。" in invalid


PROFILE_PAGES = {
    "/mypage/profile": "profile/index.html", "/mypage/profile/nickname": "profile/nickname.html",
    "/mypage/profile/email": "profile/email.html", "/mypage/profile/password": "profile/password.html",
    "/mypage/contracts": "profile/contracts.html", "/mypage/withdraw": "profile/withdraw.html",
    "/inquiry": "inquiry/new.html", "/contact": "pages/contact.html", "/accessibility": "pages/accessibility.html",
}


def test_member_pages_are_english_with_no_japanese_label_left(client_for, person, login, tenant, slug, clock):
    who = person(tenant, contracts=2)
    client = with_language(client_for(slug), "en")
    assert login(client, who).status_code == 302
    pages = dict(PROFILE_PAGES)
    if slug == "kanazawa":
        pages["/mypage/profile/secret"] = "profile/secret.html"
    for path, template in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        body = page(response)
        assert '<html lang="en">' in body, path
        assert untranslated(body, template, "macros/forms.html") == [], path
    assert "Customer number" in page(client.get("/mypage/contracts"))


def test_refusals_and_flash_messages_follow_the_language(app, client_for, person, login, tenant, slug, smtp_server,
                                                          clock):
    who = person(tenant, language="en")
    client = with_language(client_for(slug), "en")
    login(client, who)
    wrong = page(client.submit("/mypage/profile/password", {
        "current_password": "not-it", "password": NEW_PASSWORDS[slug], "password_confirm": NEW_PASSWORDS[slug]}))
    assert "The current password is not correct." in wrong and "現在のパスワードが正しくありません" not in wrong
    taken = page(client.submit("/mypage/contracts", {"customer_number": who.numbers[0], "phone": "0165000000",
                                                      "holder_kana": "スイドウ"}))
    assert "This customer number is already registered." in taken
    unknown = page(client.submit("/mypage/contracts", {"customer_number": "9" * len(who.numbers[0]),
                                                        "phone": "0165000000", "holder_kana": "スイドウ"}))
    assert "No matching contract was found." in unknown and "The customer number does not exist." in unknown
    changed = client.submit("/mypage/profile/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORDS[slug], "password_confirm": NEW_PASSWORDS[slug]})
    assert changed.status_code == 302
    assert "Your password was changed. You have been logged out on your other devices." in page(
        client.get(changed.headers["Location"]))
    assert "Your password was changed" in smtp_server.last_to(who.email)["Subject"]

    # Switch to やさしい日本語: the email change's code mail follows the member's stored language.
    with_language(client, "easy")
    sent = client.submit("/mypage/profile/email", {"email": "new@example.jp", "password": NEW_PASSWORDS[slug]})
    assert sent.status_code == 302
    assert "に にんしょう コード（認証コード）を おくりました。" in page(client.get(sent.headers["Location"]))
    code_mail = smtp_server.last_to("new@example.jp")
    assert "メールアドレスを かえる コード" in code_mail["Subject"]
    bad = page(client.submit("/mypage/profile/email/verify", {"code": "12"}))
    assert "コードは メールに ある 6けたの すうじを いれて ください。" in bad


@pytest.mark.parametrize("language", ["en", "easy"])
def test_inquiry_form_and_receipt_mail_in_the_language(client_for, smtp_server, clock, language):
    client = with_language(client_for("kanazawa"), language)
    empty = page(client.submit("/inquiry", {"customer_number": "12"}))
    expected = {"en": ("Please enter your name.", "Please choose a topic.", "Enter the customer number as 10 digits"),
                "easy": ("なまえを いれて ください。", "しつもんの しゅるいを えらんで ください。", "10けたの すうじです")}
    for text in expected[language]:
        assert text in empty, text
    label = {"en": "Moving or change of name", "easy": "ひっこし・なまえの へんこう"}[language]
    assert label in empty
    sent = client.submit("/inquiry", {"name": "Alex", "email": "alex@example.jp", "category": "引越し・名義変更",
                                      "subject": "Moving", "body": "When does my contract end?"})
    assert sent.status_code == 302
    done = page(client.get("/inquiry/sent"))
    assert {"en": "We have received your inquiry", "easy": "しつもんを うけつけました"}[language] in done
    ack = smtp_server.last_to("alex@example.jp")
    assert {"en": "We have received your inquiry", "easy": "しつもんを うけつけました"}[language] in ack["Subject"]
    assert label in body_of(ack)  # the category as the citizen chose it, in their language


MAILS = ("already_registered", "email_change_code", "email_change_taken", "email_changed_notice", "password_reset",
         "recovery", "login_unlock", "withdrawn", "verification_code", "inquiry_ack")


@pytest.mark.parametrize("language", ["ja", "en", "easy"])
def test_every_account_mail_renders_in_each_language(app, nayoro, kanazawa, make_member, language):
    """Each mail template of these flows, rendered for a member of that language: nothing of the
    other languages' text, no placeholder left (the SMTP path is the tests above)."""
    import datetime as dt
    from types import SimpleNamespace

    from waterportal.accounts.models import Member
    from waterportal.mail.services import queue_mail

    now = dt.datetime(2026, 11, 27, 9, 5)
    for tenant in (nayoro, kanazawa):
        member_id = make_member(tenant, email=f"m-{language}@example.jp", language=language,
                                login_id="mailer01" if tenant.login_mode == "login_id" else None)
        with app.test_request_context("/"), tenant_context(tenant):
            member = db.session.get(Member, member_id)
            context = dict(member=member, email=member.email, code="123456", ttl_minutes=30, purpose="register",
                           changed_at=now, new_email="n@example.jp", link="https://x/l", minutes=60,
                           forgot_url="https://x/f", nickname=member.nickname, withdrawn_at=now, login_id="mailer01",
                           register_url="https://x/r", received_at=now, echo=True, contact_url="https://x/c",
                           inquiry=SimpleNamespace(reference="Q000001", category="その他", subject="件名", body="本文"))
            for kind in MAILS:
                message = queue_mail(tenant, member.email, kind, **context)
                # The city's signature (its office, in Japanese) follows the separator.
                text = (message.subject + "\n" + message.body).split("――――")[0]
                assert "%(" not in text and "{{" not in text, (kind, text)
                if language == "en":
                    english = re.sub("件名|本文|水道太郎", "", text.replace(tenant.portal_name, ""))
                    assert not JAPANESE.search(english), (kind, english)
                elif language == "ja":
                    assert "このメール" in text or "認証コード" in text or "会員登録" in text, kind
            db.session.rollback()


def test_login_required_and_logout_notices_follow_the_language(client_for, person, login, tenant, slug, clock):
    client = with_language(client_for(slug), "easy")
    asked = client.get("/mypage/profile")
    assert asked.status_code == 302
    assert "この ページを 見るには ログイン して ください。" in page(client.get(asked.headers["Location"]))
    login(client, person(tenant))
    with_language(client, "en")
    out = client.submit("/logout", {}, form_page="/mypage/profile")
    assert "You have logged out." in page(client.get(out.headers["Location"]))


def test_a_refused_login_says_so_in_the_language(client_for, person, tenant, slug, clock):
    who = person(tenant)
    client = with_language(client_for(slug), "en")
    refused = page(client.submit("/login", {"identifier": who.identifier, "password": "wrong-password"}))
    expected = "The email address or password is not correct." if slug == "nayoro" else \
        "The login ID or password is not correct."
    assert expected in refused and "正しくありません" not in refused
