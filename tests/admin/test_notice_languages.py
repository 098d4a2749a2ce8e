"""お知らせ in English and やさしい日本語 (issue 13 §10): staff write a notice's title and body in
the languages the city offers next to the Japanese ones; members reading (or mailed) in a
language the notice has no text in get the Japanese with a note."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from tests.admin.test_mail_fanout import add_members, counting
from tests.admin.test_notices import notice_form, notices_of
from tests.conftest import city
from tests.smtp import body_text
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.mail.jobs import expand_due
from waterportal.mail.sender import send_due
from waterportal.notices import services
from waterportal.notices.models import NoticeText
from waterportal.tenancy.context import tenant_context

ENGLISH = {"title_en": "Water outage on December 1", "body_en": "Water will be off for works.\nSee https://example.jp/x"}
EASY_NOTE = "この ぶんしょうは にほんごだけ です。"
EN_NOTE = "This text is available in Japanese only."
JA_NOTE = "この文章は日本語だけで掲載しています。"


def texts_of(app, tenant) -> dict[int, dict[str, tuple[str, str]]]:
    with app.app_context(), tenant_context(tenant):
        return {notice_id: {code: (t.title, t.body) for code, t in found.items()}
                for notice_id, found in services.notice_texts(
                    [n.id for n in notices_of(app, tenant)]).items()}


def member_client(client_for, make_member, tenant, language: str | None, email: str = "reader@example.jp"):
    """A member of ``tenant`` logged in through the real form, reading in ``language``."""
    login_id = email.split("@")[0] + "-id"
    make_member(tenant, email=email, login_id=login_id)
    client = client_for(tenant.slug)
    identifier = email if tenant.login_mode == "email" else login_id
    assert client.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
    if language:
        client.set_cookie("lang", language, domain=client.host)
    return client


def notice_block(page: str) -> str:
    """The dashboard's お知らせ card."""
    return re.search(r'<section class="card notices-card".*?</section>', page, re.DOTALL).group(0)


def test_an_english_text_written_in_the_console_is_what_english_readers_see(
        app, staff_client, client_for, make_member, kanazawa, audit_entries):
    staff = staff_client("kanazawa")
    form = staff.get("/admin/notices/new").get_data(as_text=True)
    assert "英語・やさしい日本語(任意)</legend>" in form
    assert 'name="title_en"' in form and 'name="body_easy"' in form and 'lang="en"' in form
    response = staff.submit("/admin/notices/new", notice_form(**ENGLISH))
    assert response.headers["Location"] == "/admin/notices"
    [notice] = notices_of(app, kanazawa)
    assert texts_of(app, kanazawa) == {notice.id: {"en": (ENGLISH["title_en"], ENGLISH["body_en"])}}
    assert "言語: 日本語・英語</p>" in staff.get("/admin/notices").get_data(as_text=True)
    assert audit_entries(kanazawa, "notice.create")[0][3] == {"title": "断水のお知らせ", "languages": ["en"]}

    english = notice_block(member_client(client_for, make_member, kanazawa, "en").get("/mypage").get_data(as_text=True))
    assert '<span class="notice-title">Water outage on December 1</span>' in english
    assert "Water will be off for works.<br>" in english
    assert '<a href="https://example.jp/x" rel="noopener noreferrer" target="_blank">' in english
    assert "断水のお知らせ" not in english and EN_NOTE not in english and 'lang="ja"' not in english

    japanese = notice_block(member_client(client_for, make_member, kanazawa, None, "ja@example.jp")
                            .get("/mypage").get_data(as_text=True))
    assert '<span class="notice-title">断水のお知らせ</span>' in japanese and "工事のため断水します。" in japanese
    assert "Water outage" not in japanese and JA_NOTE not in japanese

    easy = notice_block(member_client(client_for, make_member, kanazawa, "easy", "easy@example.jp")
                        .get("/mypage").get_data(as_text=True))
    assert '<span class="notice-title" lang="ja">断水のお知らせ</span>' in easy
    assert f'role="note">{EASY_NOTE}</p>' in easy
    assert '<div class="notice-body" lang="ja">工事のため断水します。</div>' in easy
    assert "Water outage" not in easy


def test_a_text_is_edited_added_and_removed_with_audit(app, staff_client, client_for, make_member, kanazawa,
                                                     audit_entries):
    staff = staff_client("kanazawa")
    staff.submit("/admin/notices/new", notice_form(**ENGLISH))
    [notice] = notices_of(app, kanazawa)
    edit = f"/admin/notices/{notice.id}/edit"
    page = staff.get(edit).get_data(as_text=True)
    assert 'value="Water outage on December 1"' in page and "Water will be off for works.\nSee https://example.jp/x</textarea>" in page

    staff.submit(edit, notice_form(title_en="Water outage on December 2", body_en=ENGLISH["body_en"],
                                   title_easy="12がつ2にち みずが でません", body_easy="こうじを します。"))
    assert texts_of(app, kanazawa) == {notice.id: {"en": ("Water outage on December 2", ENGLISH["body_en"]),
                                                   "easy": ("12がつ2にち みずが でません", "こうじを します。")}}
    assert audit_entries(kanazawa, "notice.update")[0][3] == {"changes": {
        "title_en": ["Water outage on December 1", "Water outage on December 2"],
        "title_easy": [None, "12がつ2にち みずが でません"], "body_easy": [None, "こうじを します。"]}}
    assert "言語: 日本語・英語・やさしい日本語</p>" in staff.get("/admin/notices").get_data(as_text=True)

    # Emptying both fields of a language removes its text; the English page falls back.
    staff.submit(edit, notice_form(title_easy="12がつ2にち みずが でません", body_easy="こうじを します。"))
    assert texts_of(app, kanazawa) == {notice.id: {"easy": ("12がつ2にち みずが でません", "こうじを します。")}}
    assert audit_entries(kanazawa, "notice.update")[1][3] == {"changes": {
        "title_en": ["Water outage on December 2", None], "body_en": [ENGLISH["body_en"], None]}}
    assert "言語: 日本語・やさしい日本語</p>" in staff.get("/admin/notices").get_data(as_text=True)
    english = notice_block(member_client(client_for, make_member, kanazawa, "en").get("/mypage").get_data(as_text=True))
    assert '<span class="notice-title" lang="ja">断水のお知らせ</span>' in english and EN_NOTE in english
    easy = notice_block(member_client(client_for, make_member, kanazawa, "easy", "easy@example.jp")
                        .get("/mypage").get_data(as_text=True))
    assert "12がつ2にち みずが でません" in easy and EASY_NOTE not in easy

    # Deleting the notice deletes its texts.
    staff.submit(f"/admin/notices/{notice.id}/delete", {})
    with app.app_context(), tenant_context(kanazawa):
        assert db.session.scalars(select(NoticeText)).all() == []


@pytest.mark.parametrize("changes, field, message", [
    ({"title_en": "Water outage"}, "body_en", "英語の本文を入力してください(タイトルだけでは掲載できません)。"),
    ({"body_easy": "みずが でません。"}, "title_easy", "やさしい日本語のタイトルを入力してください(本文だけでは掲載できません)。"),
    ({"title_en": "a" * 201, "body_en": "b"}, "title_en", "英語のタイトルは200文字以内で入力してください。"),
    ({"title_easy": "a", "body_easy": "b" * 5001}, "body_easy", "やさしい日本語の本文は5000文字以内で入力してください。"),
])
def test_a_half_written_language_is_refused_at_its_field_with_the_input_kept(app, staff_client, kanazawa,
                                                                            changes, field, message):
    staff = staff_client("kanazawa")
    page = staff.submit("/admin/notices/new", notice_form(**changes)).get_data(as_text=True)
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page)
    assert f'<a href="#{field}">' in page  # the error summary links to the field
    assert "入力内容に誤りがあります。" in page and "工事のため断水します。</textarea>" in page
    for name, value in changes.items():
        assert (f'value="{value}"' if name.startswith("title") else f"{value}</textarea>") in page
    assert notices_of(app, kanazawa) == []


def test_only_the_languages_the_city_offers_are_written(app, staff_client, kanazawa):
    from tests.mypage.usage.test_languages import offer

    offer(app, "kanazawa", ["ja", "en"])
    staff = staff_client("kanazawa")
    form = staff.get("/admin/notices/new").get_data(as_text=True)
    assert "英語(任意)</legend>" in form and 'name="title_easy"' not in form
    staff.submit("/admin/notices/new", notice_form(**ENGLISH, title_easy="だけ", body_easy="だけ"))
    [notice] = notices_of(app, kanazawa)
    assert texts_of(app, kanazawa) == {notice.id: {"en": (ENGLISH["title_en"], ENGLISH["body_en"])}}

    # A city that stops offering English keeps its notices' English texts when they are edited.
    offer(app, "kanazawa", ["ja"])
    assert "(任意)</legend>" not in staff.get(f"/admin/notices/{notice.id}/edit").get_data(as_text=True)
    staff.submit(f"/admin/notices/{notice.id}/edit", notice_form(title="断水(訂正)"))
    assert notices_of(app, kanazawa)[0].title == "断水(訂正)"
    assert texts_of(app, kanazawa) == {notice.id: {"en": (ENGLISH["title_en"], ENGLISH["body_en"])}}


def test_the_notice_mail_goes_in_each_members_language(app, staff_client, make_member, kanazawa, smtp_server):
    make_member(kanazawa, email="ja@example.jp", login_id="ja-member", notify_notices=True)
    make_member(kanazawa, email="en@example.jp", login_id="en-member", language="en", notify_notices=True)
    make_member(kanazawa, email="easy@example.jp", login_id="easy-member", language="easy", notify_notices=True)
    staff = staff_client("kanazawa")
    staff.submit("/admin/notices/new", notice_form(mail_members="y", **ENGLISH))
    with app.app_context():
        assert expand_due() == 3
        assert send_due().sent == 3
    mails = {m["To"]: (m["Subject"], body_text(m).replace("\r\n", "\n")) for m in smtp_server.wait_for(3)}
    portal = "金沢市上下水道ポータルサイト"

    subject, body = mails["en@example.jp"]
    assert subject == f"[{portal}] [Important] Notice: Water outage on December 1"
    assert "■ Water outage on December 1" in body and "Water will be off for works.\nSee https://example.jp/x" in body
    assert "断水" not in body and EN_NOTE not in body

    subject, body = mails["easy@example.jp"]
    assert subject == f"【{portal}】【だいじ】おしらせ: 断水のお知らせ"
    assert f"■ 断水のお知らせ\n\n{EASY_NOTE}\n\n工事のため断水します。" in body

    subject, body = mails["ja@example.jp"]
    assert subject == f"【{portal}】【重要】お知らせ: 断水のお知らせ"
    assert "■ 断水のお知らせ\n\n工事のため断水します。\n" in body and JA_NOTE not in body


def test_the_notice_mail_fan_out_stays_set_wise_with_texts(app, staff_client, kanazawa):
    """The worker's statements for a notice with texts do not grow with its members."""
    staff = staff_client("kanazawa")
    seen, earlier = [], 0
    for start, count in ((0, 3), (3, 3), (6, 60)):  # the first round warms the caches
        members = add_members(app, kanazawa, count, start=start)
        with app.app_context(), tenant_context(kanazawa):
            db.session.execute(update(Member).where(Member.id % 3 == 0).values(language="en"))
            db.session.execute(update(Member).where(Member.id % 3 == 1).values(language="easy"))
            db.session.commit()
        staff.submit("/admin/notices/new", notice_form(mail_members="y", **ENGLISH, title_easy="みず", body_easy="でません"))
        with counting(app) as statements, app.app_context():
            assert expand_due() == len(members) + earlier  # the earlier members too
        earlier += len(members)
        seen.append(len(statements))
    assert seen[1] == seen[2], seen


def test_another_citys_texts_never_show(app, staff_client, client_for, make_member, kanazawa, nayoro):
    staff_client("nayoro").submit("/admin/notices/new", notice_form(title="名寄の断水", title_en="Nayoro outage",
                                                                     body_en="Nayoro only"))
    [theirs] = notices_of(app, nayoro)
    staff_client("kanazawa").submit("/admin/notices/new", notice_form(title="金沢の断水"))
    with app.app_context(), tenant_context(kanazawa):
        assert services.notice_texts([theirs.id]) == {}
    english = member_client(client_for, make_member, city(app, "kanazawa"), "en").get("/mypage").get_data(as_text=True)
    assert "Nayoro" not in english and "金沢の断水" in english
    assert staff_client("kanazawa", email="k2@example.jp").get(f"/admin/notices/{theirs.id}/edit").status_code == 404
