"""Issue 13 §10: the city's texts, FAQ and contact windows in English and やさしい日本語, edited in
the console (``/admin/settings/<group>?lang=en``) and shown on the citizen pages, else Japanese
with a note."""
from __future__ import annotations

import html
import re

import pytest

from tests.admin.test_settings import revisions, settings_post, tenant_state
from tests.conftest import city
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import apply_definition, read_definition

NOTE_EN = "This text is available in Japanese only."
SOME_EN = "Some of these details are available in Japanese only."


def redefine(app, slug: str, change) -> None:
    """Change the city's tenant.toml definition and apply it, as `flask tenant apply` does."""
    with app.app_context():
        definition = read_definition(TENANTS_DIR / slug)
        change(definition)
        apply_definition(definition)
        db.session.commit()


def without_translations(definition) -> None:
    """The city as it was before it wrote its texts and windows in English and やさしい日本語 (the
    demo cities carry theirs: tests/tenancy/test_demo_city_translations.py), for the tests of
    what the console and the pages do with a text left in Japanese."""
    for language in ("en", "easy"):
        definition["texts"].pop(language, None)
        for window in definition["contact"]["windows"]:
            window.pop(language, None)


def untranslated(app, slug: str) -> None:
    redefine(app, slug, without_translations)


def page(client, path: str, language: str) -> str:
    client.set_cookie("lang", language, domain=client.host)
    return client.get(path).get_data(as_text=True)


def main(body: str) -> str:
    return body.split("<main", 1)[1].split("</main>", 1)[0]


def error_of(body: str, name: str) -> str:
    found = re.search(rf'id="f-{re.escape(name.replace(".", "-"))}-error">([^<]*)<', body)
    return html.unescape(found.group(1)) if found else ""


def test_english_about_and_easy_faq_saved_in_the_console_show_in_that_language_only(
        app, staff_client, client_for, kanazawa, audit_entries, clock):
    untranslated(app, "kanazawa")
    admin = staff_client("kanazawa")
    japanese_about = main(page(client_for("kanazawa"), "/pages/about", "ja"))
    form = admin.get("/admin/settings/pages?lang=en").get_data(as_text=True)
    assert '<h1>ページの文章(English)</h1>' in form
    assert "金沢市上下水道ポータルサイト(以下「ポータルサイト」といいます。)" in form  # the Japanese original beside it
    assert 'name="texts.en.about"' in form and 'name="texts.about"' not in form
    assert "空欄にすると日本語の文章を表示します" in form

    response = settings_post(admin, "pages?lang=en", {"texts.en.about": "Kanazawa's portal. Open {service_hours}."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/settings/pages?lang=en")
    assert "「ページの文章(English)」を保存しました(変更履歴 No.1)" in admin.get(response.headers["Location"]).get_data(as_text=True)
    response = settings_post(admin, "faq?lang=easy", {"texts.easy.faq.0.question": "ばんごうを わすれました",
                                                      "texts.easy.faq.0.answer": "でんわで きいて ください"})
    assert response.status_code == 302

    citizen = client_for("kanazawa")
    about = page(citizen, "/pages/about", "en")
    assert "Kanazawa&#39;s portal. Open 7:00 AM to 2:00 AM." in about and NOTE_EN not in about
    assert NOTE_EN in page(citizen, "/pages/privacy", "en")  # not translated: Japanese with the note
    faq = page(citizen, "/faq", "easy")
    assert "Q. ばんごうを わすれました" in faq and "にほんごだけ" not in faq
    assert NOTE_EN in page(citizen, "/faq", "en")  # the English FAQ was not written
    assert main(page(citizen, "/pages/about", "ja")) == japanese_about

    # The revisions and the audit name the language of each text.
    (_, _, group, _, changes, overrides), (_, _, faq_group, _, faq_changes, _) = revisions(app, kanazawa)
    assert (group, faq_group) == ("pages", "faq")
    assert changes == [{"key": "texts.en.about", "old": None, "new": "Kanazawa's portal. Open {service_hours}."}]
    assert overrides == {"texts": {"en": {"about": "Kanazawa's portal. Open {service_hours}."}}}
    assert [c["key"] for c in faq_changes] == ["texts.easy.faq"]
    assert [e[3]["keys"] for e in audit_entries(kanazawa, "settings.change")] == [["texts.en.about"], ["texts.easy.faq"]]
    history = admin.get("/admin/settings/history").get_data(as_text=True)
    assert "このサイトについて(English)" in history and "よくある質問(やさしい日本語)" in history

    # A rollback to tenant.toml takes the translation away again.
    assert admin.submit("/admin/settings/history/0/rollback", {}).status_code == 302
    assert NOTE_EN in page(citizen, "/pages/about", "en")


def test_a_mistyped_placeholder_in_an_english_text_is_refused_at_its_field(app, staff_client):
    admin = staff_client("kanazawa")
    before = tenant_state(app, "kanazawa")
    body = settings_post(admin, "pages?lang=en", {"texts.en.login_notice": "Open {service_hour} daily",
                                                  "texts.en.about": "Kept as typed"}).get_data(as_text=True)
    assert "{service_hour} は使えない差し込み項目です" in error_of(body, "texts.en.login_notice")
    assert "ご利用時間の案内(ログイン画面)(English): {service_hour}" in html.unescape(body)  # the summary names it
    assert ">Open {service_hour} daily</textarea>" in html.unescape(body) and ">Kept as typed</textarea>" in body
    assert tenant_state(app, "kanazawa") == before
    # An easy FAQ row with a question and no answer: refused at the answer.
    body = settings_post(admin, "faq?lang=easy", {"texts.easy.faq.0.question": "しつもん",
                                                  "texts.easy.faq.0.answer": ""}).get_data(as_text=True)
    assert error_of(body, "texts.easy.faq.0.answer") == "入力してください。"
    assert 'name="texts.easy.faq.0.question" value="しつもん"' in body
    assert tenant_state(app, "kanazawa") == before


def test_an_emptied_english_field_shows_the_japanese_text_with_the_note(app, staff_client, client_for, kanazawa):
    redefine(app, "kanazawa", lambda d: d["texts"].update(en={"about": "From tenant.toml", "terms": "Terms"}))
    citizen = client_for("kanazawa")
    assert "From tenant.toml" in page(citizen, "/pages/about", "en")
    admin = staff_client("kanazawa")
    form = admin.get("/admin/settings/pages?lang=en").get_data(as_text=True)
    assert ">From tenant.toml</textarea>" in form
    assert settings_post(admin, "pages?lang=en", {"texts.en.about": ""}).status_code == 302
    about = page(citizen, "/pages/about", "en")
    assert "From tenant.toml" not in about and NOTE_EN in about and "金沢市上下水道ポータルサイト" in about
    assert NOTE_EN not in page(citizen, "/pages/terms", "en")  # the other translation stays
    changes = revisions(app, kanazawa)[0][4]
    assert changes == [{"key": "texts.en.about", "old": "From tenant.toml", "new": ""}]
    # Saving the same again changes nothing.
    response = settings_post(admin, "pages?lang=en", {})
    assert "変更はありませんでした" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_the_preview_shows_the_filled_translation_in_its_language(staff_client):
    admin = staff_client("kanazawa")
    body = settings_post(admin, "pages?lang=en", {"texts.en.login_notice": "Open {service_hours}, codes last {code_ttl_minutes} min"},
                         action="preview").get_data(as_text=True)
    srcdoc = html.unescape(re.search(r'<iframe sandbox="" title="[^"]+" srcdoc="([^"]*)"', body).group(1))
    assert "Open 7:00 AM to 2:00 AM, codes last 30 min" in srcdoc and '<html lang="en"' in srcdoc
    body = settings_post(admin, "contact?lang=easy", {"contact.windows.0.easy.name": "きぎょうきょく えいぎょうか"},
                         action="preview").get_data(as_text=True)
    srcdoc = html.unescape(re.search(r'<iframe sandbox="" title="[^"]+" srcdoc="([^"]*)"', body).group(1))
    assert "きぎょうきょく えいぎょうか" in srcdoc and "まどぐち" in srcdoc


def test_a_city_offering_only_japanese_has_no_language_choice(app, staff_client):
    redefine(app, "nayoro", lambda d: d["languages"].update(offered=["ja"]))
    admin = staff_client("nayoro")
    for group in ("pages", "faq", "contact"):
        body = admin.get(f"/admin/settings/{group}").get_data(as_text=True)
        assert 'aria-label="編集する言語"' not in body and "?lang=en" not in body
        assert admin.get(f"/admin/settings/{group}?lang=en").status_code == 404
    both = staff_client("kanazawa")
    body = both.get("/admin/settings/faq").get_data(as_text=True)
    assert 'aria-label="編集する言語"' in body and 'href="/admin/settings/faq?lang=easy"' in body
    assert 'aria-label="編集する言語"' not in both.get("/admin/settings/hours").get_data(as_text=True)


@pytest.mark.parametrize("value", ["fr", "EN", "<script>", "en\x00", "長" * 300])
def test_an_unknown_language_or_a_group_without_translations_is_not_found(staff_client, value):
    admin = staff_client("kanazawa")
    assert admin.get("/admin/settings/pages", query_string={"lang": value}).status_code == 404
    assert admin.get("/admin/settings/hours?lang=en").status_code == 404
    assert admin.post("/admin/settings/pages", query_string={"lang": value}, data={}).status_code in (400, 404)


def test_contact_windows_in_english_and_easy_with_and_without_translations(app, staff_client, client_for, kanazawa):
    untranslated(app, "kanazawa")
    citizen = client_for("kanazawa")
    before = page(citizen, "/contact", "en")
    assert before.count(NOTE_EN) == 2 and '<h2 lang="ja">金沢市企業局 営業課</h2>' in before
    admin = staff_client("kanazawa")
    form = admin.get("/admin/settings/contact?lang=en").get_data(as_text=True)
    assert "<h1>お問い合わせ窓口(English)</h1>" in form and 'name="contact.windows.0.en.name"' in form
    assert 'name="contact.windows.0.en.phone"' not in form and 'name="contact.inquiry_email"' not in form
    assert settings_post(admin, "contact?lang=en", {
        "contact.windows.0.en.name": "Sales Section, Kanazawa Enterprise Bureau",
        "contact.windows.0.en.hours": "Weekdays 8:45-17:30",
    }).status_code == 302
    body = page(citizen, "/contact", "en")
    assert "<h2>Sales Section, Kanazawa Enterprise Bureau</h2>" in body and "Weekdays 8:45-17:30" in body
    assert body.count(NOTE_EN) == 1  # the second window: not translated at all
    assert body.count(SOME_EN) == 1  # the first: its address and note still in Japanese
    assert re.search(r'<p lang="ja">[^<]*金沢市', body)  # its address, marked Japanese
    easy = page(citizen, "/contact", "easy")
    assert "Sales Section" not in easy and easy.count("この ぶんしょうは にほんごだけ です。") == 2
    japanese = page(citizen, "/contact", "ja")
    assert "Sales Section" not in japanese and "日本語だけ" not in japanese and 'lang="ja"' not in main(japanese)
    (_, _, group, _, changes, _), = revisions(app, kanazawa)
    assert group == "contact"
    assert [c["key"] for c in changes] == ["contact.windows.0.en.hours", "contact.windows.0.en.name"]
    history = admin.get("/admin/settings/history").get_data(as_text=True)
    assert "窓口名(English)" in history and "受付時間(English)" in history
    # The Japanese page's form keeps the translations when a window's Japanese words change.
    assert settings_post(admin, "contact", {"contact.windows.1.note": "変更後の備考"}).status_code == 302
    assert "Sales Section, Kanazawa Enterprise Bureau" in page(citizen, "/contact", "en")


def test_a_window_keeps_its_own_translations_after_a_deleted_window_and_a_preview(app, staff_client, client_for,
                                                                                 kanazawa):
    """The Japanese windows form after a preview (or a refused save) is drawn afresh without
    the blanked rows: the window now first keeps the translations of the window it was, not
    those of the one deleted in its place."""
    from tests.admin.conftest import form_fields

    admin = staff_client("kanazawa")
    windows = kanazawa.settings["contact"]["windows"]
    second_en = windows[1]["en"]["name"]
    assert windows[0]["en"]["name"] != second_en
    blank_first = {f"contact.windows.0.{key}": "" for key in ("name", "phone", "hours", "address", "note")}
    previewed = settings_post(admin, "contact", blank_first, action="preview").get_data(as_text=True)
    data = form_fields(previewed)  # the form as drawn again: the second window is now row 0
    assert data["contact.windows.0.name"] == windows[1]["name"]
    data["action"] = "save"
    assert admin.post("/admin/settings/contact", data=data).status_code == 302
    body = page(client_for("kanazawa"), "/contact", "en")
    assert f"<h2>{second_en}</h2>" in body and windows[0]["en"]["name"] not in body


def test_window_translations_in_tenant_toml(app, client_for):
    def translate(definition):
        without_translations(definition)
        first = definition["contact"]["windows"][0]
        first["en"] = {"name": "Water Sales", "hours": "Weekdays", "address": "Kanazawa", "note": "Bills"}
        first["easy"] = {"name": "すいどうの まどぐち"}
    redefine(app, "kanazawa", translate)
    citizen = client_for("kanazawa")
    body = page(citizen, "/contact", "en")
    assert "<h2>Water Sales</h2>" in body and body.count(NOTE_EN) == 1 and SOME_EN not in body
    easy = page(citizen, "/contact", "easy")
    assert "すいどうの まどぐち" in easy and "いくつかは にほんごだけ です。" in easy


def test_translations_stay_in_their_city(app, staff_client, client_for):
    admin = staff_client("kanazawa")
    assert settings_post(admin, "pages?lang=en", {"texts.en.about": "Only Kanazawa"}).status_code == 302
    assert settings_post(admin, "contact?lang=en", {"contact.windows.0.en.name": "Only KZ"}).status_code == 302
    nayoro = client_for("nayoro")
    assert "Only Kanazawa" not in page(nayoro, "/pages/about", "en") and "Only KZ" not in page(nayoro, "/contact", "en")
    assert "Only Kanazawa" not in staff_client("nayoro").get("/admin/settings/pages?lang=en").get_data(as_text=True)
    nayoro_english = read_definition(TENANTS_DIR / "nayoro")["texts"]["en"]
    assert city(app, "nayoro").settings["texts"]["en"]["about"] == nayoro_english["about"]  # its own, untouched


def test_an_untouched_translation_form_saves_nothing(app, staff_client, kanazawa):
    admin = staff_client("kanazawa")
    for group in ("pages?lang=en", "faq?lang=easy", "contact?lang=en"):
        response = settings_post(admin, group, {})
        assert response.status_code == 302, group
        assert "変更はありませんでした" in admin.get(response.headers["Location"]).get_data(as_text=True)
    english = read_definition(TENANTS_DIR / "kanazawa")["texts"]["en"]
    assert revisions(app, kanazawa) == [] and city(app, "kanazawa").settings["texts"]["en"]["about"] == english["about"]


def test_labels_and_the_diff_name_the_language():
    from waterportal.admin.settings.groups import label
    from waterportal.admin.settings.services import diff

    assert label("texts.en.about") == "このサイトについて(English)"
    assert label("texts.easy.faq.2.answer") == "回答(やさしい日本語)"
    assert label("contact.windows.1.en.note") == "備考(English)"
    assert label("texts.about") == "このサイトについて" and label("contact.windows") == "窓口"
    old = {"contact": {"windows": [{"name": "窓口", "phone": "1"}, {"name": "課", "en": {"name": "Div"}}]}}
    new = {"contact": {"windows": [{"name": "窓口", "phone": "1", "en": {"name": "Desk"}}, {"name": "課"}]}}
    assert diff(old, new) == [{"key": "contact.windows.0.en.name", "old": None, "new": "Desk"},
                              {"key": "contact.windows.1.en.name", "old": "Div", "new": None}]
    # A change to the Japanese words of a window is still shown as the whole list.
    renamed = {"contact": {"windows": [{"name": "新窓口", "phone": "1"}, old["contact"]["windows"][1]]}}
    assert [c["key"] for c in diff(old, renamed)] == ["contact.windows"]
    # Switching service hours off is still diffed by its bare name.
    assert [c["key"] for c in diff({"service_hours": {"open": "07:00"}}, {"service_hours": None})] == ["service_hours"]


def test_the_hours_page_names_a_translation_that_writes_a_time(staff_client):
    from tests.admin.test_settings_hours import timed_texts_box

    admin = staff_client("kanazawa")
    settings_post(admin, "pages?lang=en", {"texts.en.login_notice": "Open daily from 7:00 a.m. to 2:00 a.m."})
    settings_post(admin, "faq?lang=easy", {"texts.easy.faq.0.question": "なんじまで つかえますか",
                                           "texts.easy.faq.0.answer": "よる 2時 まで です"})
    box = timed_texts_box(admin.get("/admin/settings/hours").get_data(as_text=True))
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', html.unescape(box)) == [
        ("/admin/settings/pages?lang=en", "ご利用時間の案内(ログイン画面)(English)"),
        ("/admin/settings/faq?lang=easy", "よくある質問(やさしい日本語)"),
    ]
