"""Catalogues and language choice (core/i18n.py, issue 13 §10).

A template listed in TRANSLATED is fully translated: no Japanese text outside ``_()`` (Jinja
tags and comments aside), and every string it marks has an English and a やさしい日本語
translation with the same placeholders. A string added to one of these templates without a
catalogue entry fails here (`make translations` adds it to the .po files). The compiled .mo
files are committed and must say what the .po files say.
"""
from __future__ import annotations

import datetime as dt
import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from waterportal.core.i18n import TRANSLATIONS_DIR, choose_language, force_language, format_month, format_ymd
from waterportal.core.paths import THEMES_DIR
from waterportal.extensions import db
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import tenant_context

TEMPLATES = THEMES_DIR / "default" / "templates"
# The citizen templates translated so far (docs/architecture.md "Languages" lists what is not).
TRANSLATED = (
    "base.html", "macros/forms.html", "accounts/login.html", "portal/_parts.html", "portal/dashboard.html",
    "portal/bills.html", "registration/email.html", "registration/help.html", "pages/text.html",
    "pages/faq.html", "mail/password_changed.txt", "mail/welcome.txt",
    "mail/leak_notice.txt", "portal/_leak_notice.html",  # issue 14 §1, 漏水の可能性
    "profile/watch.html", "profile/watch_verify.html", "mail/watch_code.txt", "mail/watch_alert.txt",  # §6 見守り
    "portal/area_alert.html", "mail/area_alert.txt",  # §4 地区別のお知らせ (断水・濁水・工事)
    # issue 13 §10, the usage and payment pages
    "portal/graph.html", "portal/bill.html", "portal/documents.html", "portal/certificates.html", "portal/slip.html",
    "pages/simulator.html",
    # issue 13 §10, registration 2-4, recovery, the member's account pages, inquiry, contact, policy, their mails
    "registration/details.html", "registration/confirm.html", "registration/done.html",
    "accounts/forgot_password.html", "accounts/forgot_sent.html", "accounts/new_password.html",
    "accounts/recover_email.html", "accounts/recover_question.html", "accounts/recover_sent.html",
    "accounts/token_invalid.html", "accounts/unlock.html",
    "profile/index.html", "profile/nickname.html", "profile/email.html", "profile/email_verify.html",
    "profile/password.html", "profile/secret.html", "profile/notifications.html", "profile/contracts.html",
    "profile/contract_label.html", "profile/contract_remove.html", "profile/withdraw.html", "profile/withdrawn.html",
    "inquiry/new.html", "inquiry/sent.html", "pages/contact.html", "pages/accessibility.html",
    "mail/verification_code.txt", "mail/already_registered.txt", "mail/email_change_code.txt",
    "mail/email_change_taken.txt", "mail/email_changed_notice.txt", "mail/inquiry_ack.txt", "mail/login_unlock.txt",
    "mail/password_reset.txt", "mail/recovery.txt", "mail/withdrawn.txt",
    "procedures/_fields.html", "procedures/detail.html", "procedures/form.html", "procedures/index.html",
    "procedures/receipt.html", "procedures/verify.html", "procedures/kinds/billing_address.html",
    "procedures/kinds/holder_change.html", "procedures/kinds/leak_reduction.html", "procedures/kinds/move_in.html",
    "procedures/kinds/move_out.html", "procedures/kinds/paperless.html", "procedures/kinds/payment_method.html",
    "procedures/kinds/payment_method_receipt.html", "procedures/kinds/reduction.html",
    "mail/bill_ready.txt", "mail/notice.txt", "mail/procedure_received.txt", "mail/procedure_status.txt",
)
LANGUAGES = ("en", "easy")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e、。「」]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalogue(code: str) -> dict[str, object]:
    with (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m for m in read_po(handle) if m.id}


def template_messages(name: str) -> list[str]:
    source = (TEMPLATES / name).read_bytes()
    options = {"autoescape": "false"} if name.endswith(".txt") else {}
    return [message for _line, message, _comments, _context in
            extract("jinja2", BytesIO(source), keywords={"_": None}, options=options)]


@pytest.mark.parametrize("name", TRANSLATED)
def test_translated_templates_have_no_japanese_outside_gettext(name):
    source = (TEMPLATES / name).read_text()
    text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "", source, flags=re.S)
    leftovers = [line.strip() for line in text.splitlines() if JAPANESE.search(line)]
    assert leftovers == [], f"{name}: text not marked for translation: {leftovers}"
    # Literals inside Jinja expressions too (macro arguments, lists): only inside _().
    for expression in re.findall(r"{{(.*?)}}|{%(.*?)%}", source, flags=re.S):
        code = " ".join(expression)
        unmarked = re.sub(r"_\((['\"])(?:(?!\1).)*\1", "", code)
        literals = [m[1] for m in re.findall(r"(['\"])((?:(?!\1).)*)\1", unmarked) if JAPANESE.search(m[1])]
        # The greeting's keys are the view's Japanese values, each translated beside it.
        literals = [lit for lit in literals if lit not in ("おはようございます", "こんにちは", "こんばんは")]
        assert literals == [], f"{name}: Japanese literal outside _(): {literals}"


@pytest.mark.parametrize("code", LANGUAGES)
@pytest.mark.parametrize("name", TRANSLATED)
def test_every_marked_string_is_translated_with_its_placeholders(name, code):
    entries = catalogue(code)
    for message in template_messages(name):
        entry = entries.get(message)
        assert entry is not None, f"{name}: {message!r} is not in the {code} catalogue (make translations)"
        assert entry.string and not entry.fuzzy, f"{code}: {message!r} has no translation"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(message)), (code, message)


@pytest.mark.parametrize("code", LANGUAGES)
def test_compiled_catalogues_match_their_sources(code):
    folder = TRANSLATIONS_DIR / code / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - the compiled messages
    source = {m.id: m.string for m in catalogue(code).values() if m.string and not m.fuzzy}
    compiled.pop("", None)
    assert compiled == source, "stale .mo: run `make translations`"


def test_easy_japanese_is_easy():
    """やさしい日本語: short sentences, and the manual's terms only beside their plain words."""
    for message, entry in catalogue("easy").items():
        # Counted as read: without markup, and without the manual's term beside the plain words.
        plain = re.sub(r"（[^）]*）|<[^>]+>", "", PLACEHOLDER.sub("X", entry.string))
        for sentence in re.split(r"[。！？]", plain):
            assert len(sentence) <= 60, (message, sentence)
        assert "お客さま番号" not in entry.string.replace("（お客さま番号）", ""), message


@pytest.mark.parametrize(("cookie", "accept", "offered", "expected"), [
    ("en", [("ja", 1)], ["ja", "en", "easy"], "en"),
    ("easy", [("en", 1)], ["ja", "en", "easy"], "easy"),
    ("easy", [("en", 1)], ["ja", "en"], "en"),
    ("fr", [], ["ja", "en", "easy"], "ja"),
    (None, [("en-US", 1), ("ja", 0.5)], ["ja", "en"], "en"),
    (None, [("ja", 0.9), ("en", 1)], ["ja", "en"], "en"),
    (None, [("en", 0)], ["ja", "en"], "ja"),
    (None, [("en", 1)], ["ja"], "ja"),
    (None, [("easy", 1)], ["ja", "easy"], "ja"),
])
def test_choose_language(cookie, accept, offered, expected):
    assert choose_language(cookie, accept, offered) == expected


def test_dates_and_months_follow_the_language(app):
    day = dt.date(2026, 9, 30)
    with app.test_request_context("/"):
        assert (format_ymd(day), format_month("2026-09")) == ("2026/09/30", "2026年09月")
        with force_language("en"):
            assert (format_ymd(day), format_month("2026-09")) == ("Sep 30, 2026", "September 2026")
        with force_language("easy"):
            assert (format_ymd(day), format_month("2026-09")) == ("2026/09/30", "2026年9月")
        with force_language("no-such"):
            assert format_month("2026-09") == "2026年09月"


@pytest.mark.parametrize(("language", "subject"), [
    ("en", "[名寄市上下水道ポータル] Your password was changed"),
    ("easy", "【名寄市上下水道ポータル】パスワードが かわりました"),
    ("ja", "【名寄市上下水道ポータル】パスワード変更のお知らせ"),
])
def test_mail_is_in_the_members_language_whatever_the_request(app, nayoro, make_member, language, subject):
    from waterportal.accounts.models import Member

    member_id = make_member(nayoro, language=language)
    # The request (a clerk's, or the member's on another device) is in English or Japanese:
    # the mail follows the member.
    with app.test_request_context("/", headers={"Cookie": "lang=en"}), tenant_context(nayoro):
        member = db.session.get(Member, member_id)
        message = queue_mail(nayoro, member.email, "password_changed", member=member,
                             changed_at=dt.datetime(2026, 11, 27, 9, 5), login_url="https://x/login")
        assert message.subject == subject
        if language == "en":
            assert "Dear 水道太郎," in message.body and "on 2026-11-27 at 09:05" in message.body
        db.session.rollback()


def test_mail_to_an_address_that_is_no_member_follows_the_request(app, nayoro):
    from types import SimpleNamespace

    with app.test_request_context("/", headers={"Cookie": "lang=easy"}), tenant_context(nayoro):
        message = queue_mail(nayoro, "nobody@example.jp", "password_changed", member=SimpleNamespace(nickname="A"),
                             changed_at=dt.datetime(2026, 11, 27, 9, 5), login_url="https://x/login")
        assert "かわりました" in message.subject
        db.session.rollback()


def test_catalogues_are_packaged():
    assert Path(TRANSLATIONS_DIR, "en", "LC_MESSAGES", "messages.mo").is_file()
    setup = (Path(__file__).resolve().parents[2] / "setup.cfg").read_text()
    assert "*.po" in setup and "*.mo" in setup
