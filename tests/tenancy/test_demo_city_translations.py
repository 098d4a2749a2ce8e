"""The demo cities' own texts in English and やさしい日本語 (issue 13 §10).

名寄市 and 金沢市 offer 日本語, English and やさしい日本語. What they wrote themselves (the
pages' texts, the login page's notices, the registration help, the FAQ and every contact
window) has its English and やさしい日本語 in tenant.toml (``[texts.en]``, ``[texts.easy]``,
``[contact.windows.en]``...), so those pages show no 「available in Japanese only」 note. The
legal texts (privacy, terms) stay Japanese only: the city's Japanese is the authoritative one,
shown with the note.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import city
from tests.registration_support import PHONES, Registration, page
from waterportal.core.paths import TENANTS_DIR
from waterportal.provisioning.services import read_definition
from waterportal.tenancy.schemas import validate_definition
from waterportal.tenancy.words import PLACEHOLDER

SLUGS = ("nayoro", "kanazawa")
LANGUAGES = ("en", "easy")
# The city's texts a demo city translates (the legal ones, privacy and terms, it does not).
TRANSLATED = ("about", "login_notice", "security_notice", "registration_help", "registration_done", "faq")
LEGAL = ("privacy", "terms")
WINDOW_FIELDS = ("name", "hours", "address", "note")
NOTE = {"en": "This text is available in Japanese only.", "easy": "この ぶんしょうは にほんごだけ です。"}
SOME_NOTE = {"en": "Some of these details are available in Japanese only.", "easy": "いくつかは にほんごだけ です。"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# The manual's term beside its English, for the citizen to find it on paper: "notice (検針票)".
TERM_BESIDE_ENGLISH = re.compile(r"(?<=[A-Za-z]) \([\u3040-\u30ff\u3400-\u9fff]+\)")
NUMBERS = {"nayoro": "00123456789", "kanazawa": "0012345678"}


def definition(slug: str) -> dict:
    return read_definition(TENANTS_DIR / slug)


def get(client, path: str, language: str) -> str:
    client.set_cookie("lang", language, domain=client.host)
    response = client.get(path)
    assert response.status_code == 200, path
    return page(response)


def main(body: str) -> str:
    return body.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_japanese_text_and_window_of_a_demo_city_has_its_translation(slug, language):
    loaded = validate_definition(definition(slug))  # every translation passes the schema (placeholders too)
    texts = loaded["texts"]
    variant = texts[language]
    for key in TRANSLATED:
        if texts[key]:  # a text the city wrote in Japanese is written in the language too
            assert variant.get(key), (slug, language, key)
        else:  # and none the Japanese page does not show
            assert key not in variant, (slug, language, key)
    assert len(variant["faq"]) == len(texts["faq"]) == 3
    for key in LEGAL:
        assert texts[key] and key not in variant, key  # the Japanese is authoritative
    for window in loaded["contact"]["windows"]:
        words = window[language]
        assert {key for key in WINDOW_FIELDS if window.get(key)} == set(words), (window["name"], language)
    # The same settings, repeated where the Japanese repeats them (a text follows a setting
    # staff change in the console).
    for key in TRANSLATED[:-1]:
        assert set(PLACEHOLDER.findall(texts[key])) <= set(PLACEHOLDER.findall(variant.get(key, ""))), key


@pytest.mark.parametrize("slug", SLUGS)
def test_the_english_texts_hold_no_japanese_but_the_terms_on_paper(slug):
    english = definition(slug)["texts"]["en"]
    texts = [english[key] for key in TRANSLATED[:-1] if key in english]
    texts += [value for item in english["faq"] for value in item.values()]
    texts += [value for window in definition(slug)["contact"]["windows"] for value in window["en"].values()]
    for text in texts:
        filled = PLACEHOLDER.sub("X", text)
        assert not JAPANESE.search(TERM_BESIDE_ENGLISH.sub("", filled)), text


@pytest.mark.parametrize("slug", SLUGS)
def test_the_easy_texts_are_easy(slug):
    """The rule of the やさしい日本語 catalogue (tests/core/test_i18n.py): sentences of 60
    characters at most (the manual's terms in （） beside the plain words not counted)."""
    easy = definition(slug)["texts"]["easy"]
    texts = [easy[key] for key in TRANSLATED[:-1] if key in easy]
    texts += [value for item in easy["faq"] for value in item.values()]
    texts += [value for window in definition(slug)["contact"]["windows"] for value in window["easy"].values()]
    for text in texts:
        plain = re.sub(r"（[^）]*）", "", PLACEHOLDER.sub("X", text))
        for sentence in re.split(r"[。！？\n]", plain):
            assert len(sentence) <= 60, sentence
        for term in ("お客様番号", "お客さま番号", "認証コード", "検針票"):
            assert term not in re.sub(r"（[^）]*）", "", text), (term, text)


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_show_the_translations_without_the_note_and_the_legal_texts_with_it(
        app, client_for, slug, language):
    tenant = city(app, slug)
    settings = tenant.settings
    variant = settings["texts"][language]
    client = client_for(slug)
    about = main(get(client, "/pages/about", language))
    assert NOTE[language] not in about and 'lang="ja"' not in about
    first_paragraph = variant["about"].split("\n\n")[0]
    assert PLACEHOLDER.sub("", first_paragraph).strip()[:40] in about
    faq = main(get(client, "/faq", language))
    assert NOTE[language] not in faq and 'lang="ja"' not in faq
    assert faq.count("<dt>") == len(variant["faq"])
    assert settings["texts"]["faq"][0]["question"] not in faq
    contact = main(get(client, "/contact", language))
    assert NOTE[language] not in contact and SOME_NOTE[language] not in contact and 'lang="ja"' not in contact
    for window in settings["contact"]["windows"]:
        assert f"<h2>{window[language]['name']}</h2>" in contact
        assert window["phone"] in contact
    help_page = main(get(client, "/register/help", language))
    assert settings["mail"]["sender_address"] in help_page
    assert settings["texts"]["registration_help"].split("{")[0] not in help_page
    for key in LEGAL:
        legal = main(get(client, f"/pages/{key}", language))
        assert NOTE[language] in legal and '<div class="prose" lang="ja">' in legal, key
    for shown in (about, faq, contact, help_page):
        assert "{" not in re.sub(r"<[^>]+>", "", shown)  # every placeholder filled
    japanese = main(get(client, "/pages/about", "ja"))
    assert "日本語だけ" not in japanese and first_paragraph[:20] not in japanese


def test_the_english_pages_fill_the_placeholders_with_each_citys_settings(client_for):
    nayoro, kanazawa = client_for("nayoro"), client_for("kanazawa")
    faq = get(nayoro, "/faq", "en")
    assert "Where can I find my customer number (お客様番号)?" in faq
    assert "It is the 11-digit number printed on your water and sewer bill notice (検針票)." in faq
    assert "The verification code is valid for 30 minutes." in faq
    assert "accept mail from noreply@nayoro.localhost, and then send" in faq
    assert "from 1 business day(s) after registration" in faq
    assert "accept mail from noreply@nayoro.localhost." in get(nayoro, "/register/help", "en")
    kanazawa_faq = get(kanazawa, "/faq", "en")
    # English texts say the hours the English way; the Japanese and easy ones as the manual does.
    assert "Service hours: every day, 7:00 AM to 2:00 AM." in kanazawa_faq
    assert "customer number (お客さま番号) of another place" in kanazawa_faq
    assert "Service hours: every day, 7:00 AM to 2:00 AM." in get(kanazawa, "/pages/about", "en")
    help_page = get(kanazawa, "/register/help", "en")
    assert "accept mail from noreply@kanazawa.localhost. The verification code is valid for 30 minutes." in help_page
    easy = get(kanazawa, "/faq", "easy")
    assert "つかえる じかんは、まいにち AM7:00〜AM2:00 です。" in easy
    assert "おきゃくさま ばんごう（お客さま番号）を ふやせます。" in easy


def test_the_english_login_page_shows_the_citys_english_notices(client_for):
    kanazawa = main(get(client_for("kanazawa"), "/login", "en"))
    assert '<h2 id="hours-title">Service hours</h2>' in kanazawa
    assert "<p>Service hours: every day, 7:00 AM to 2:00 AM.</p>" in kanazawa
    assert "<li>Do not reuse a password you use for other services.</li>" in kanazawa
    assert "<li>To prevent unauthorized logins:</li>" in kanazawa
    assert "ご利用可能時間" not in kanazawa and "パスワードの使い回し" not in kanazawa
    assert NOTE["en"] not in kanazawa and 'lang="ja"' not in kanazawa
    easy = main(get(client_for("kanazawa"), "/login", "easy"))
    assert "<p>つかえる じかんは、まいにち AM7:00〜AM2:00 です。</p>" in easy
    assert "<li>ときどき パスワードを かえて ください。</li>" in easy and "お止め下さい" not in easy
    japanese = main(get(client_for("kanazawa"), "/login", "ja"))
    assert "<p>ご利用可能時間は、毎日AM7:00〜AM2:00の間です。</p>" in japanese and "Service hours: every" not in japanese
    # 名寄市 writes no notice for its login page, in any language (it has no service hours).
    nayoro = main(get(client_for("nayoro"), "/login", "en"))
    assert "hours-title" not in nayoro and "security-title" not in nayoro and NOTE["en"] not in nayoro


@pytest.mark.parametrize("slug", SLUGS)
def test_registration_done_says_the_citys_english_words_with_its_days(app, client_for, make_contract, clock, slug):
    tenant = city(app, slug)
    make_contract(tenant, customer_number=NUMBERS[slug], phone=PHONES[slug], holder_name_kana="スイドウタロウ")
    registration = Registration(app, client_for(slug), tenant)
    registration.verify(f"translated-{slug}@example.jp")
    assert registration.fill_details(NUMBERS[slug]).status_code == 302
    assert registration.confirm().status_code == 302
    done = main(get(registration.client, "/register/done", "en"))
    days = tenant.settings["registration"]["data_visible_after_business_days"]
    assert (f"<p>You can view your water use and charges {days} business day(s) after registration. "
            "Thank you for your patience.</p>") in done
    assert "営業日後" not in done and NOTE["en"] not in done


def test_a_text_left_in_japanese_on_the_login_help_and_done_pages_is_marked_and_noted(app, client_for):
    """The login page's notices and the registration help say they are in Japanese only, and
    are marked lang="ja" (screen readers), where the city wrote no translation; the hours a
    city writes no notice for are said in the page's language."""
    from tests.admin.test_settings_languages import redefine, untranslated, without_translations

    untranslated(app, "kanazawa")
    login = main(get(client_for("kanazawa"), "/login", "en"))
    hours = login.split('id="hours-title"', 1)[1].split("</section>", 1)[0]
    security = login.split('id="security-title"', 1)[1].split("</section>", 1)[0]
    for section in (hours, security):
        assert NOTE["en"] in section and 'lang="ja"' in section
    assert '<p lang="ja">ご利用可能時間は、毎日AM7:00〜AM2:00の間です。</p>' in hours
    help_page = main(get(client_for("kanazawa"), "/register/help", "easy"))
    assert NOTE["easy"] in help_page and '<p lang="ja">' in help_page

    def no_login_notice(definition):
        without_translations(definition)
        definition["texts"]["login_notice"] = ""

    redefine(app, "kanazawa", no_login_notice)
    hours = main(get(client_for("kanazawa"), "/login", "en")).split('id="hours-title"', 1)[1].split("</section>", 1)[0]
    assert "The portal is available every day from 07:00 to 02:00." in hours and NOTE["en"] not in hours
