"""Three languages on the citizen pages (issue 13 §10, core/i18n.py): the switch, the cookie,
Accept-Language, the member's stored language, and the translated login, dashboard and bills
pages in both demo cities."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.mypage.usage.conftest import history_rows
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NUMBERS = {"nayoro": "00012345682", "kanazawa": "0100012345"}
NEWEST = {"nayoro": ("2026-10", 1), "kanazawa": ("2026-09", 2)}
MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# Template strings of these pages that must not be left in an English or やさしい日本語 page.
JAPANESE_LABELS = ("今回の請求金額", "会員サポート", "照会メニュー", "納付状況", "会員さま専用サイトへ戻る", "ご請求の情報")


def html_lang(body: str) -> str:
    return re.search(r'<html lang="([^"]+)"', body).group(1)


def switch(client, code: str, next_path: str = "/login"):
    return client.submit("/language", {"lang": code, "next": next_path}, form_page="/login")


def test_japanese_by_default_and_the_switch_is_on_the_page(client, clock):
    body = client.get("/login").get_data(as_text=True)
    assert html_lang(body) == "ja"
    assert ">パスワードを忘れた場合はこちら<" in body
    for code, name in (("ja", "日本語"), ("en", "English"), ("easy", "やさしい日本語")):
        assert re.search(rf'<button type="submit" name="lang" value="{code}"[^>]*>{name}</button>', body), code
    assert re.search(r'value="ja"[^>]*aria-current="true"', body)


def test_accept_language_is_the_first_guess(client, clock):
    body = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"}).get_data(as_text=True)
    assert html_lang(body) == "en" and ">Forgot your password?<" in body
    # Japanese preferred: Japanese, never やさしい日本語 by guess.
    body = client.get("/login", headers={"Accept-Language": "ja,en;q=0.8"}).get_data(as_text=True)
    assert html_lang(body) == "ja" and "パスワードを忘れた場合はこちら" in body
    body = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(body) == "ja"


def test_switch_sets_the_cookie_and_wins_over_accept_language(client, clock):
    response = switch(client, "easy", "/login?x=1")
    assert response.status_code == 303 and response.headers["Location"] == "/login?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=easy;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    body = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "パスワードを わすれた かたは ここ" in body and html_lang(body) == "ja"


@pytest.mark.parametrize("value", ["fr", "EN", "en;", "../../etc", "x" * 300, "ja-easy", ""])
def test_unknown_cookie_values_fall_back_to_japanese(client, clock, value):
    client.set_cookie("lang", value, domain="nayoro.localhost")
    response = client.get("/login")
    assert response.status_code == 200
    assert html_lang(response.get_data(as_text=True)) == "ja"


@pytest.mark.parametrize("value", ["fr", "", "EN"])
def test_switch_refuses_languages_it_does_not_know(client, clock, value):
    assert switch(client, value).status_code == 400


def test_switch_never_redirects_off_site(client, clock):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        assert switch(client, "en", target).headers["Location"] == "/"


def offer(app, slug: str, offered: list[str]) -> None:
    """tenant.toml [languages] offered, applied as `flask tenant apply` does."""
    from waterportal.core.paths import TENANTS_DIR
    from waterportal.provisioning.services import apply_definition, read_definition

    with app.app_context():
        definition = read_definition(TENANTS_DIR / slug)
        definition["languages"] = {"offered": offered}
        apply_definition(definition)
        db.session.commit()


def test_a_city_offers_only_its_languages(app, client, clock):
    offer(app, "nayoro", ["ja", "en"])
    body = client.get("/login").get_data(as_text=True)
    assert 'value="easy"' not in body and 'value="en"' in body
    assert switch(client, "easy").status_code == 400
    client.set_cookie("lang", "easy", domain="nayoro.localhost")
    assert html_lang(client.get("/login").get_data(as_text=True)) == "ja"
    offer(app, "nayoro", ["ja"])
    assert "language-switch" not in client.get("/login").get_data(as_text=True)


def test_settings_refuse_a_city_without_japanese_or_with_unknown_languages():
    from marshmallow import ValidationError

    from waterportal.tenancy.schemas import LanguagesSchema

    assert LanguagesSchema().load({}) == {"offered": ["ja", "en", "easy"]}
    for offered in (["en"], ["ja", "fr"]):
        with pytest.raises(ValidationError) as error:
            LanguagesSchema().load({"offered": offered})
        assert "offered" in error.value.messages


def test_login_form_in_english_with_errors_at_the_fields(client, clock):
    client.set_cookie("lang", "en", domain="nayoro.localhost")
    body = client.submit("/login", {"identifier": "", "password": ""}).get_data(as_text=True)
    assert ">Email address<" in body and ">Password<" in body
    assert "Please enter your Email address." in body and "Please enter your password." in body
    assert "メールアドレス" not in body and "入力してください" not in body


def test_switching_while_logged_in_stores_the_members_language(app, client, nayoro, customer, login, clock):
    member_id = customer(nayoro, [NUMBERS["nayoro"]])
    login(client, nayoro)
    response = client.submit("/language", {"lang": "en", "next": "/mypage"}, form_page="/mypage")
    assert response.status_code == 303
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(Member.language).where(Member.id == member_id)) == "en"


# page -> what it shows in English and in やさしい日本語 (the pages translated so far).
TRANSLATED_PAGES = {
    "/mypage": (("Amount billed this time", "Member support", "Due date"), ("こんかいの りょうきん", "かいいんの サポート")),
    "/mypage/bills": ((">Bills</h1>", "Payment status", "Water charge", "Back to My Page"),
                      ("はらったか どうか", "かいいん ページへ もどる")),
}


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
@pytest.mark.parametrize("code", ["en", "easy"])
def test_member_pages_are_translated(client_for, request, customer, login, clock, slug, code):
    city = request.getfixturevalue(slug)
    newest, step = NEWEST[slug]
    customer(city, [NUMBERS[slug]], bills=history_rows(NUMBERS[slug], 3, newest=newest, step=step))
    client = client_for(slug)
    login(client, city)
    client.set_cookie("lang", code, domain=client.host)
    year, month = newest.split("-")
    month_text = f"{MONTHS[int(month)]} {year}" if code == "en" else f"{year}年{int(month)}月"
    for path, (english, easy) in TRANSLATED_PAGES.items():
        body = client.get(path).get_data(as_text=True)
        for label in JAPANESE_LABELS:
            assert label not in body, (path, label)
        for text in (english if code == "en" else easy):
            assert text in body, (path, text)
        assert month_text in body and "令和" not in body, path  # Western dates even where the city writes 和暦
        assert (" yen<" if code == "en" else " えん<") in body, path
        assert html_lang(body) == ("en" if code == "en" else "ja")


def test_japanese_pages_keep_the_manuals_wording(client, nayoro, customer, login, clock):
    customer(nayoro, [NUMBERS["nayoro"]], bills=history_rows(NUMBERS["nayoro"], 3, newest="2026-10"))
    login(client, nayoro)
    body = client.get("/mypage/bills").get_data(as_text=True)
    assert "令和8年10月" in body and "納付状況" in body and "令和8年10月28日" in body  # Nayoro: 和暦


@pytest.mark.parametrize(("cookie", "given", "stored"), [("en", None, "en"), ("easy", None, "easy"), (None, None, "ja"),
                                                          ("en", "easy", "easy"), ("en", "xx", "en")])
def test_registration_stores_the_language_the_citizen_used(app, nayoro, make_contract, cookie, given, stored):
    from waterportal.accounts.registration.services import register_member

    contract_id = make_contract(nayoro)
    headers = {"Cookie": f"lang={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers), tenant_context(nayoro):
        member = register_member(nayoro, email="new@example.jp", nickname="新", password="Passw0rd!x-long",
                                 contract_id=contract_id, relationship="self", payment_method="none",
                                 welcome=False, language=given)
        assert member.language == stored
        db.session.rollback()


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_registration_step_one_is_translated(client_for, request, clock, slug):
    client = client_for(slug)
    client.set_cookie("lang", "en", domain=client.host)
    body = client.get("/register/").get_data(as_text=True)
    assert "<h1><span class=\"step\">1/4</span> Email address</h1>" in body and ">Send the verification code<" in body
    body = client.submit("/register/", {"email": "not-an-address"}).get_data(as_text=True)
    assert "This is not a valid email address" in body and "メールアドレス" not in body
    client.set_cookie("lang", "easy", domain=client.host)
    body = client.get("/register/help").get_data(as_text=True)
    assert "メールが こない とき" in body and "迷惑メールフォルダ" not in body


def set_texts(app, slug: str, **variants) -> None:
    """tenant.toml [texts.<language>] tables, applied as `flask tenant apply` does."""
    from waterportal.core.paths import TENANTS_DIR
    from waterportal.provisioning.services import apply_definition, read_definition

    with app.app_context():
        definition = read_definition(TENANTS_DIR / slug)
        definition["texts"].update(variants)
        apply_definition(definition)
        db.session.commit()


def test_city_texts_in_the_language_the_city_wrote_else_japanese_with_a_note(app, client_for, clock):
    # Its own English replaced by two texts, its やさしい日本語 taken away: the others are Japanese.
    set_texts(app, "kanazawa", en={"about": "Open {service_hours}.", "faq": [{"question": "Q1?", "answer": "A1."}]},
              easy={})
    client = client_for("kanazawa")
    client.set_cookie("lang", "en", domain=client.host)
    about = client.get("/pages/about").get_data(as_text=True)
    assert "Open 7:00 AM to 2:00 AM." in about and "Japanese only" not in about  # placeholders filled (English hours)
    privacy = client.get("/pages/privacy").get_data(as_text=True)
    assert "This text is available in Japanese only." in privacy and '<div class="prose" lang="ja">' in privacy
    faq = client.get("/faq").get_data(as_text=True)
    assert "Q. Q1?" in faq and "Japanese only" not in faq
    client.set_cookie("lang", "easy", domain=client.host)
    faq = client.get("/faq").get_data(as_text=True)
    assert "にほんごだけ" in faq and "よく ある しつもん" in faq
    client.set_cookie("lang", "ja", domain=client.host)
    about = client.get("/pages/about").get_data(as_text=True)
    assert "Open AM7" not in about and "日本語だけ" not in about


def test_settings_refuse_mistyped_placeholders_and_keys_in_translated_texts():
    from marshmallow import ValidationError

    from waterportal.tenancy.schemas import TextsSchema

    loaded = TextsSchema().load({"en": {"about": "Hours: {service_hours}"}})
    assert loaded["en"] == {"about": "Hours: {service_hours}"} and "easy" not in loaded
    with pytest.raises(ValidationError) as error:
        TextsSchema().load({"en": {"about": "Hours: {servce_hours}"}})
    assert "about" in error.value.messages["en"]
    with pytest.raises(ValidationError) as error:
        TextsSchema().load({"en": {"abuot": "x"}})
    assert "abuot" in error.value.messages["en"]


def test_login_brings_the_members_language_to_a_new_device(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NUMBERS["nayoro"]], language="en")
    response = login(client, nayoro)
    assert any(c.startswith("lang=en;") for c in response.headers.getlist("Set-Cookie"))
    body = client.get("/mypage").get_data(as_text=True)
    assert "Amount billed this time" in body


def test_a_language_chosen_before_login_becomes_the_members(app, client, nayoro, customer, login, clock):
    member_id = customer(nayoro, [NUMBERS["nayoro"]], language="en")
    client.set_cookie("lang", "easy", domain="nayoro.localhost")
    response = login(client, nayoro)
    assert not any(c.startswith("lang=") for c in response.headers.getlist("Set-Cookie"))
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(Member.language).where(Member.id == member_id)) == "easy"
    assert "こんかいの りょうきん" in client.get("/mypage").get_data(as_text=True)


@pytest.mark.parametrize(("cookie", "subject", "date"), [
    ("en", "Your registration is complete", "from Thu, Nov 19, 2026."),
    ("easy", "かいいん とうろくが おわりました", "2026年11月19日(木)から 見る"),
    (None, "会員登録完了のお知らせ", "2026年11月19日(木)からです。"),
])
def test_welcome_mail_in_the_language_registered_in(app, nayoro, make_contract, cookie, subject, date):
    from waterportal.accounts.registration.services import register_member
    from waterportal.mail.models import OutboxMessage

    contract_id = make_contract(nayoro)
    headers = {"Cookie": f"lang={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers), tenant_context(nayoro):
        member = register_member(nayoro, email="new@example.jp", nickname="新", password="Passw0rd!x-long",
                                 contract_id=contract_id, relationship="self", payment_method="none")
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "welcome"))
        assert mail.subject == subject
        assert date in mail.body.replace("\n", " "), mail.body
        assert member.language == (cookie or "ja")
        db.session.rollback()


def test_the_citys_own_japanese_on_an_english_page_is_marked_japanese(client_for):
    """What a city writes only in Japanese (its footer ©, the simulator's note) is marked
    lang="ja" on English pages, so a screen reader reads it as Japanese."""
    client = client_for("nayoro")
    client.set_cookie("lang", "en", domain=client.host)
    english = client.get("/simulator").get_data(as_text=True)
    assert '<p class="copyright" lang="ja">' in english
    assert re.search(r'<p class="notice-text" lang="ja">[^<]*[\u3040-\u9fff]', english)
    client.set_cookie("lang", "ja", domain=client.host)
    japanese = client.get("/simulator").get_data(as_text=True)
    assert '<p class="copyright">' in japanese and 'class="notice-text" lang="ja"' not in japanese
