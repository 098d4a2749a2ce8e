"""お知らせ: console CRUD in the city's time zone, visibility and 「New」, autolink, mail."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import city
from waterportal.extensions import db
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.notices import services
from waterportal.notices.models import Notice
from waterportal.tenancy.context import tenant_context

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=TOKYO)


def notice_form(**changes):
    data = {"title": "断水のお知らせ", "body": "工事のため断水します。", "published_at": "2026-11-18T09:00",
            "expires_at": "", "important": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def notices_of(app, tenant):
    with app.app_context(), tenant_context(tenant):
        rows = db.session.scalars(select(Notice).order_by(Notice.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def outbox(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return [(m.to_address, m.subject, m.body, m.kind) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def expand(app):
    """What the outbox worker does first in each round: expand the pending mail jobs."""
    with app.app_context():
        return expand_due()


def add_notice(app, tenant, **fields):
    with app.app_context(), tenant_context(tenant):
        notice = Notice(**fields)
        db.session.add(notice)
        db.session.commit()
        return notice.id


def test_a_notice_is_created_in_the_citys_time_and_stored_in_utc(app, staff_client, kanazawa, audit_entries):
    with time_machine.travel(NOW, tick=False):
        client = staff_client("kanazawa")
        assert 'value="2026-11-18T10:00"' in client.get("/admin/notices/new").get_data(as_text=True)  # defaults to now
        response = client.submit("/admin/notices/new", notice_form(
            title="年末年始の窓口", published_at="2026-12-01T09:00", expires_at="2027-01-05 17:00",
            body="12月29日から休みます。\r\n詳細: https://www.city.kanazawa.example/nenmatsu?a=1&b=2 をご覧ください。"))
        assert response.headers["Location"] == "/admin/notices"
        listing = client.get("/admin/notices").get_data(as_text=True)
    [notice] = notices_of(app, kanazawa)
    assert notice.published_at == dt.datetime(2026, 12, 1, 0, 0) and notice.expires_at == dt.datetime(2027, 1, 5, 8, 0)
    assert notice.body == "12月29日から休みます。\n詳細: https://www.city.kanazawa.example/nenmatsu?a=1&b=2 をご覧ください。"
    assert notice.important and not notice.mail_members
    assert "予約" in listing and "2026-12-01 09:00〜2027-01-05 17:00" in listing
    assert '<a href="https://www.city.kanazawa.example/nenmatsu?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">' in listing
    assert audit_entries(kanazawa, "notice.create")[0][:4] == (
        f"staff:{client.staff_id}", "notice.create", f"notice:{notice.id}", {"title": "年末年始の窓口"})


@pytest.mark.parametrize("changes, field, message", [
    ({"title": "  "}, "title", "タイトルを入力してください。"),
    ({"title": "あ" * 201}, "title", "タイトルは200文字以内で入力してください。"),
    ({"body": ""}, "body", "本文を入力してください。"),
    ({"published_at": ""}, "published_at", "掲載開始日時を入力してください。"),
    ({"published_at": "明日"}, "published_at", "日時は 2026-04-01 09:00 の形式で入力してください。"),
    ({"expires_at": "2026-11-18T08:00"}, "expires_at", "掲載終了日時は掲載開始日時より後にしてください。"),
    ({"expires_at": "2026-13-01T08:00"}, "expires_at", "日時は 2026-04-01 09:00 の形式で入力してください。"),
])
def test_notice_errors_are_shown_next_to_the_field_with_the_input_kept(app, staff_client, kanazawa, changes, field, message):
    client = staff_client("kanazawa")
    body = client.submit("/admin/notices/new", notice_form(**changes)).get_data(as_text=True)
    assert re.search(rf'id="{field}-error">{re.escape(message)}', body)
    assert "入力内容に誤りがあります。" in body
    if field != "body":
        assert "工事のため断水します。</textarea>" in body
    assert notices_of(app, kanazawa) == []


def test_a_notice_is_edited_and_deleted_with_audit(app, staff_client, kanazawa, audit_entries):
    notice_id = add_notice(app, kanazawa, title="旧タイトル", body="本文", published_at=dt.datetime(2026, 11, 1, 0, 0))
    client = staff_client("kanazawa")
    page = client.get(f"/admin/notices/{notice_id}/edit").get_data(as_text=True)
    assert 'value="旧タイトル"' in page and 'value="2026-11-01T09:00"' in page  # shown in Tokyo time
    response = client.submit(f"/admin/notices/{notice_id}/edit", notice_form(
        title="新タイトル", body="本文", published_at="2026-11-01T09:00", important=None))
    assert response.headers["Location"] == "/admin/notices"
    [notice] = notices_of(app, kanazawa)
    assert notice.title == "新タイトル" and notice.updated_at >= notice.created_at
    assert audit_entries(kanazawa, "notice.update")[0][3] == {"changes": {"title": ["旧タイトル", "新タイトル"]}}

    confirm = client.get(f"/admin/notices/{notice_id}/delete").get_data(as_text=True)
    assert "新タイトル" in confirm and "元に戻せません" in confirm
    assert notices_of(app, kanazawa)  # GET deletes nothing
    assert client.submit(f"/admin/notices/{notice_id}/delete", {}).headers["Location"] == "/admin/notices"
    assert notices_of(app, kanazawa) == []
    assert audit_entries(kanazawa, "notice.delete")[0][2:4] == (f"notice:{notice_id}", {"title": "新タイトル"})
    assert client.get(f"/admin/notices/{notice_id}/edit").status_code == 404


def test_another_citys_notice_is_not_found(app, staff_client, nayoro):
    notice_id = add_notice(app, nayoro, title="名寄のお知らせ", body="本文")
    client = staff_client("kanazawa")
    assert client.get(f"/admin/notices/{notice_id}/edit").status_code == 404
    assert client.submit(f"/admin/notices/{notice_id}/delete", {}, form_page="/admin/notices/new").status_code == 404
    assert "名寄のお知らせ" not in client.get("/admin/notices").get_data(as_text=True)
    assert notices_of(app, nayoro)[0].title == "名寄のお知らせ"


def test_visible_notices_and_the_new_badge_follow_the_clock_and_the_city_setting(app, kanazawa, nayoro):
    utc = dt.UTC
    add_notice(app, kanazawa, title="古い", body=".", published_at=dt.datetime(2026, 11, 1))
    add_notice(app, kanazawa, title="新しい", body=".", published_at=dt.datetime(2026, 11, 17))
    add_notice(app, kanazawa, title="重要", body=".", important=True, published_at=dt.datetime(2026, 10, 1))
    add_notice(app, kanazawa, title="予約", body=".", published_at=dt.datetime(2026, 11, 20))
    add_notice(app, kanazawa, title="終了", body=".", published_at=dt.datetime(2026, 10, 1), expires_at=dt.datetime(2026, 11, 2))
    add_notice(app, nayoro, title="名寄", body=".", published_at=dt.datetime(2026, 11, 1))
    now = dt.datetime(2026, 11, 18, 0, 0, tzinfo=utc)
    with app.app_context(), tenant_context(kanazawa):
        visible = services.visible_notices(kanazawa, now)
        assert [n.title for n in visible] == ["重要", "新しい", "古い"]
        assert [services.is_new(n, now, kanazawa) for n in visible] == [False, True, False]
        assert [services.status(n, now) for n in db.session.scalars(select(Notice).order_by(Notice.id))] == [
            "掲載中", "掲載中", "掲載中", "予約", "掲載終了"]
        assert [n.title for n in services.visible_notices(kanazawa, dt.datetime(2026, 11, 20, 0, 0, tzinfo=utc))][1] == "予約"

    from waterportal.admin.settings.services import apply_overrides

    with app.app_context(), tenant_context(kanazawa):
        apply_overrides(kanazawa, {"notices": {"new_badge_days": 30}}, actor="test")
        db.session.commit()
    longer = city(app, "kanazawa")
    with app.app_context(), tenant_context(longer):
        assert [services.is_new(n, now, longer) for n in services.visible_notices(longer, now)] == [False, True, True]


@pytest.mark.parametrize("text, expected", [
    ("詳細は https://example.jp/a?b=1&c=2 をご覧ください。",
     '詳細は <a href="https://example.jp/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">https://example.jp/a?b=1&amp;c=2</a> をご覧ください。'),
    ("<script>alert(1)</script> javascript:alert(1)", "&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)"),
    ("リンク:https://example.jp/x。次の文", 'リンク:<a href="https://example.jp/x" rel="noopener noreferrer" target="_blank">https://example.jp/x</a>。次の文'),
    ('(http://example.jp/"onmouseover=x)', '(<a href="http://example.jp/" rel="noopener noreferrer" target="_blank">http://example.jp/</a>&#34;onmouseover=x)'),
    ("一行目\n**太字** [x](y)", "一行目<br>\n**太字** [x](y)"),
])
def test_autolink_links_urls_and_escapes_everything_else(text, expected):
    assert str(services.autolink(text)) == expected


def test_notices_are_mailed_once_to_members_who_opted_in(app, staff_client, kanazawa, make_member, runner, audit_entries):
    make_member(kanazawa, email="yes@example.jp", login_id="yes-member", notify_notices=True)
    make_member(kanazawa, email="no@example.jp", login_id="no-member", notify_notices=False)
    with time_machine.travel(NOW, tick=False) as clock:
        client = staff_client("kanazawa")
        client.submit("/admin/notices/new", notice_form(title="今すぐ", mail_members="y"))
        client.submit("/admin/notices/new", notice_form(title="明日", mail_members="y", published_at="2026-11-19T09:00"))
        client.submit("/admin/notices/new", notice_form(title="メールなし"))
        assert outbox(app, kanazawa) == []  # the request only records the job: the worker fans out
        assert expand(app) == 1
        mails = outbox(app, kanazawa)
        assert [(m[0], m[1]) for m in mails] == [("yes@example.jp", "【金沢市上下水道ポータルサイト】【重要】お知らせ: 今すぐ")]
        assert "工事のため断水します。" in mails[0][2] and "http://kanazawa.localhost/" in mails[0][2] and mails[0][3] == "notice"
        # Editing a mailed notice does not mail it again.
        now_id = notices_of(app, kanazawa)[0].id
        client.submit(f"/admin/notices/{now_id}/edit", notice_form(title="今すぐ(訂正)", mail_members="y"))
        assert expand(app) == 0 and len(outbox(app, kanazawa)) == 1

        handed = "notice(s) handed to the outbox worker"
        assert runner.invoke(args=["notices", "mail-due", "--tenant", "kanazawa"]).output == f"kanazawa: 0 {handed}\n"
        clock.move_to(dt.datetime(2026, 11, 19, 9, 0, tzinfo=TOKYO))
        assert runner.invoke(args=["notices", "mail-due"]).output == f"kanazawa: 1 {handed}\nnayoro: 0 {handed}\n"
        assert runner.invoke(args=["notices", "mail-due"]).output == f"kanazawa: 0 {handed}\nnayoro: 0 {handed}\n"
        assert expand(app) == 1
    assert [m[1] for m in outbox(app, kanazawa)][1].endswith("お知らせ: 明日")
    assert [e[3] for e in audit_entries(kanazawa, "notice.mail")] == [{"recipients": 1}, {"recipients": 1}]
    assert all(n.mailed_at is not None for n in notices_of(app, kanazawa) if n.mail_members)
