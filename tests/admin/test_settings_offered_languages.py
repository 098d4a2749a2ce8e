"""Issue 13 §10 "Which languages a city offers is a city setting": 設定 → 表示言語 edits
``[languages] offered`` with one box per language (日本語 always on), as a revision like every
other group; a language the city turns off leaves the switch, the cookie falls back, the
translation pages stop listing it, and its members' mail goes in Japanese."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.admin.test_notice_languages import ENGLISH, JA_NOTE
from tests.admin.test_notices import notice_form
from tests.admin.test_settings import revisions, settings_post
from tests.admin.test_settings_languages import untranslated
from tests.conftest import city
from tests.smtp import body_of, body_text
from waterportal.audit.models import AuditEntry
from waterportal.extensions import db
from waterportal.mail.jobs import expand_due
from waterportal.mail.sender import send_due
from waterportal.tenancy.context import tenant_context

PAGE = "/admin/settings/languages"
SWITCH = re.compile(r'<button type="submit" name="lang" value="(\w+)"')


def offered(app, slug: str) -> list[str]:
    return list(city(app, slug).settings["languages"]["offered"])


def switch(client, cookie: str | None = None, **headers) -> tuple[list[str], str]:
    """The language switch's choices on the citizen login page, and the page's <html lang>."""
    if cookie:
        client.set_cookie("lang", cookie, domain=client.host)
    body = client.get("/login", headers=headers).get_data(as_text=True)
    return SWITCH.findall(body), re.search(r'<html lang="(\w+)"', body).group(1)


def test_the_page_has_one_box_per_language_with_japanese_fixed(staff_client):
    staff = staff_client("nayoro")
    body = staff.get(PAGE).get_data(as_text=True)
    assert "<h1>表示言語</h1>" in body and "日本語は必ず表示します" in body
    assert re.search(r'<fieldset class="field choices" id="f-languages-offered" aria-describedby="f-languages-offered-hint">'
                     r'\s*<legend>市民が選べる言語</legend>', body)
    boxes = re.findall(r'<label class="checkbox" for="([^"]+)"><input type="checkbox" id="\1"([^>]*)> ([^<]+)</label>', body)
    assert [(i, label) for i, _, label in boxes] == [
        ("f-languages-offered-ja", "日本語"), ("f-languages-offered-en", "English(英語)"),
        ("f-languages-offered-easy", "やさしい日本語")]
    ja, en, easy = (attrs for _, attrs, _ in boxes)
    assert "disabled" in ja and "checked" in ja and "name=" not in ja  # shown, not editable ...
    assert '<input type="hidden" name="languages.offered.ja" value="1">' in body  # ... and always sent
    assert 'name="languages.offered.en" value="1" checked' in en and "disabled" not in en
    assert 'name="languages.offered.easy" value="1" checked' in easy
    # Next to 「ページの文章」 in the settings index.
    index = staff.get("/admin/settings").get_data(as_text=True)
    assert index.index("/admin/settings/pages") < index.index(PAGE) < index.index("/admin/settings/faq")


def test_turning_english_off_takes_it_off_the_switch_the_cookie_and_the_translation_pages(
        app, staff_client, client_for, kanazawa):
    assert switch(client_for("kanazawa"), "en") == (["ja", "en", "easy"], "en")
    staff = staff_client("kanazawa")
    assert "?lang=en" in staff.get("/admin/settings/pages").get_data(as_text=True)

    saved = settings_post(staff, "languages", {"languages.offered.en": None})
    assert saved.status_code == 302
    assert "「表示言語」を保存しました" in staff.get(PAGE).get_data(as_text=True)
    assert offered(app, "kanazawa") == ["ja", "easy"]
    assert offered(app, "nayoro") == ["ja", "en", "easy"]  # the other city is untouched

    # The switch offers 日本語 and やさしい日本語 only; an English cookie gets Japanese, or what the
    # browser asks for among the city's languages (never English), and English cannot be chosen.
    assert switch(client_for("kanazawa"), "en") == (["ja", "easy"], "ja")
    assert switch(client_for("kanazawa"), "en", **{"Accept-Language": "en-GB,en;q=0.9"}) == (["ja", "easy"], "ja")
    assert switch(client_for("kanazawa"), "easy") == (["ja", "easy"], "ja")  # easy keeps <html lang="ja">
    chooser = client_for("kanazawa")
    assert chooser.submit("/language", {"lang": "en", "next": "/login"}, form_page="/login").status_code == 400
    assert chooser.submit("/language", {"lang": "easy", "next": "/login"}, form_page="/login").status_code == 303
    assert switch(client_for("nayoro"), "en") == (["ja", "en", "easy"], "en")

    # The translation pages list やさしい日本語 only; the English one is gone.
    pages = staff.get("/admin/settings/pages").get_data(as_text=True)
    assert "?lang=easy" in pages and "?lang=en" not in pages
    assert staff.get("/admin/settings/pages?lang=en").status_code == 404
    assert staff.get("/admin/settings/faq?lang=easy").status_code == 200


def test_the_change_is_a_revision_with_japanese_labels_audited_and_rolled_back(app, staff_client, kanazawa):
    staff = staff_client("kanazawa")
    assert settings_post(staff, "languages", {"languages.offered.en": None}).status_code == 302
    [(number, action, group, _, changes, overrides)] = revisions(app, kanazawa)
    assert (action, group, overrides) == ("change", "languages", {"languages": {"offered": ["ja", "easy"]}})
    assert changes == [{"key": "languages.offered", "old": ["ja", "en", "easy"], "new": ["ja", "easy"]}]
    history = staff.get("/admin/settings/history").get_data(as_text=True)
    row = re.search(r"市民が選べる言語<br>.*?</tr>", history, re.S).group(0)
    assert "日本語\nEnglish(英語)\nやさしい日本語</td>" in row and ">日本語\nやさしい日本語</td>" in row
    with app.app_context(), tenant_context(kanazawa):
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")).all()
        assert entry.detail["keys"] == ["languages.offered"] and entry.actor.startswith("staff:")
    assert "設定の変更" in staff.get("/admin/audit").get_data(as_text=True)

    confirm = staff.get("/admin/settings/history/0/rollback").get_data(as_text=True)
    assert "市民が選べる言語" in confirm and "English(英語)" in confirm
    assert staff.submit("/admin/settings/history/0/rollback", {}).status_code == 302
    assert offered(app, "kanazawa") == ["ja", "en", "easy"]
    assert [r[1] for r in revisions(app, kanazawa)] == ["change", "rollback"]


def test_a_post_without_japanese_is_refused_at_the_field_with_the_input_kept(app, staff_client, kanazawa):
    staff = staff_client("kanazawa")
    response = settings_post(staff, "languages", {"languages.offered.ja": None, "languages.offered.en": None})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "保存されていません" in body
    assert '<p class="error" id="f-languages-offered-error">日本語 (ja) は必ず提供してください。</p>' in body
    assert 'aria-describedby="f-languages-offered-hint f-languages-offered-error"' in body
    assert '<a href="#f-languages-offered">市民が選べる言語: 日本語 (ja) は必ず提供してください。</a>' in body
    assert 'name="languages.offered.en" value="1">' in body  # left unchecked, as sent
    assert 'name="languages.offered.easy" value="1" checked>' in body
    assert revisions(app, kanazawa) == [] and offered(app, "kanazawa") == ["ja", "en", "easy"]
    # Unknown choices are no languages: only the boxes drawn are read.
    settings_post(staff, "languages", {"languages.offered.fr": "1", "languages.offered.en": None})
    assert offered(app, "kanazawa") == ["ja", "easy"]


def test_a_member_whose_language_is_off_gets_japanese_mail(app, staff_client, client_for, make_member, nayoro,
                                                         smtp_server):
    make_member(nayoro, email="en@example.jp", language="en")
    assert client_for("nayoro").submit("/password/forgot", {"email": "en@example.jp"}).status_code == 200
    assert "Resetting your password" in smtp_server.last_to("en@example.jp")["Subject"]

    assert settings_post(staff_client("nayoro"), "languages", {"languages.offered.en": None}).status_code == 302
    assert client_for("nayoro").submit("/password/forgot", {"email": "en@example.jp"}).status_code == 200
    mail = smtp_server.last_to("en@example.jp")
    assert "【名寄市上下水道ポータル】パスワード再設定のご案内" in mail["Subject"]
    assert "水道太郎さま" in body_of(mail) and "Dear " not in body_of(mail)


def test_the_notice_mail_of_a_member_whose_language_is_off_is_japanese(app, staff_client, make_member, kanazawa,
                                                                      smtp_server):
    untranslated(app, "kanazawa")
    make_member(kanazawa, email="en@example.jp", login_id="en-member", language="en", notify_notices=True)
    make_member(kanazawa, email="easy@example.jp", login_id="easy-member", language="easy", notify_notices=True)
    staff = staff_client("kanazawa")
    assert settings_post(staff, "languages", {"languages.offered.en": None}).status_code == 302
    staff.submit("/admin/notices/new", notice_form(mail_members="y", **ENGLISH))
    with app.app_context():
        assert expand_due() == 2
        assert send_due().sent == 2
    mails = {m["To"]: (m["Subject"], body_text(m).replace("\r\n", "\n")) for m in smtp_server.wait_for(2)}
    subject, body = mails["en@example.jp"]
    assert subject == "【金沢市上下水道ポータルサイト】【重要】お知らせ: 断水のお知らせ"
    assert "■ 断水のお知らせ\n\n工事のため断水します。\n" in body and "Water outage" not in body and JA_NOTE not in body
    assert mails["easy@example.jp"][0].startswith("【金沢市上下水道ポータルサイト】【だいじ】")
