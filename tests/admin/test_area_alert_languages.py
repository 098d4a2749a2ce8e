"""地区別のお知らせ in English and やさしい日本語 (issue 13 §10), as notices have them
(tests/admin/test_notice_languages.py): staff write the title and body in the city's other
languages next to the Japanese; members on the street read (and are mailed) the text in their
language, else the Japanese with a note."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.admin import test_area_alerts
from tests.admin.test_area_alerts import alert_form, alerts, member_login, publish
from tests.smtp import body_text
from waterportal.accounts.models import Member
from waterportal.alerts.models import AreaAlertText
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.mail.jobs import expand_due
from waterportal.mail.sender import send_due
from waterportal.tenancy.context import tenant_context

streets = test_area_alerts.streets  # the fixture: members on 西4条南1丁目 and elsewhere
NOW_START = "2026-11-18T09:00"  # shown at the suite's moment (10:00)
ENGLISH = {"title_en": "Water outage for main works", "body_en": "Water will be off from 9:00.\nhttps://example.jp/info"}
EN_NOTE = "This text is available in Japanese only."
EASY_NOTE = "この ぶんしょうは にほんごだけ です。"
JA_NOTE = "この文章は日本語だけで掲載しています。"


def easy_reader(app, nayoro, make_member, make_contract):
    """A member reading in やさしい日本語 on the alert's street; what to type at the login."""
    member_id = make_member(nayoro, email="yasashii@example.jp", data_visible_from=dt.date(2020, 1, 1), language="easy")
    with app.app_context(), tenant_context(nayoro):
        db.session.add(MemberContract(member_id=member_id,
                                      contract_id=make_contract(nayoro, address="名寄市西4条南1丁目30番地")))
        db.session.commit()
    return (nayoro, "yasashii@example.jp", "yasashii@example.jp", member_id)


def test_an_alert_with_an_english_text_reads_in_each_members_language(app, staff_client, client_for, streets, nayoro,
                                                                      make_member, make_contract, audit_entries,
                                                                      smtp_server):
    easy = easy_reader(app, nayoro, make_member, make_contract)
    staff = staff_client("nayoro")
    form = staff.get("/admin/area-alerts/new").get_data(as_text=True)
    assert "英語・やさしい日本語(任意)</legend>" in form and 'name="title_en"' in form
    assert publish(staff, starts_at=NOW_START, **ENGLISH).status_code == 302
    [alert] = alerts(app, nayoro)
    with app.app_context(), tenant_context(nayoro):
        assert [(t.language, t.title, t.body) for t in db.session.scalars(select(AreaAlertText))] == [
            ("en", ENGLISH["title_en"], ENGLISH["body_en"])]
    assert audit_entries(nayoro, "area_alert.publish")[0][3]["languages"] == ["en"]
    assert "言語: 日本語・英語</p>" in staff.get("/admin/area-alerts").get_data(as_text=True)
    detail = staff.get(f"/admin/area-alerts/{alert.id}").get_data(as_text=True)
    assert "<h2>英語</h2>" in detail and f"<strong>{ENGLISH['title_en']}</strong>" in detail

    english = member_login(client_for, streets["futa"])  # stored language: English
    banner = english.get("/mypage").get_data(as_text=True)
    assert f"<span>{ENGLISH['title_en']}</span></h2>" in banner and "配水管工事に伴う断水" not in banner
    page = english.get(f"/mypage/alerts/{alert.id}").get_data(as_text=True)
    assert ENGLISH["title_en"] in page and "Water will be off from 9:00.<br>" in page
    assert EN_NOTE not in page and "配水管工事" not in page

    plain = member_login(client_for, easy)
    banner = plain.get("/mypage").get_data(as_text=True)
    assert '<span lang="ja">配水管工事に伴う断水</span></h2>' in banner
    page = plain.get(f"/mypage/alerts/{alert.id}").get_data(as_text=True)
    assert f'role="note">{EASY_NOTE}</p>' in page
    assert '<div class="notice-body" lang="ja">11月20日9時から断水します。<br>' in page

    japanese = member_login(client_for, streets["ichi"]).get(f"/mypage/alerts/{alert.id}").get_data(as_text=True)
    assert "配水管工事に伴う断水" in japanese and JA_NOTE not in japanese and "Water" not in japanese

    with app.app_context():
        assert expand_due() == 3
        assert send_due().sent == 3
    mails = {m["To"]: (m["Subject"], body_text(m).replace("\r\n", "\n")) for m in smtp_server.wait_for(3)}
    subject, body = mails["futa@example.jp"]
    assert ENGLISH["title_en"] in subject and f"■ {ENGLISH['title_en']}\n" in body
    assert "Water will be off from 9:00." in body and "配水管工事" not in body and EN_NOTE not in body
    subject, body = mails["yasashii@example.jp"]
    assert "配水管工事に伴う断水" in subject and f"■ 配水管工事に伴う断水\n{EASY_NOTE}\n" in body
    subject, body = mails["ichi@example.jp"]
    assert "配水管工事に伴う断水" in subject and JA_NOTE not in body and "Water" not in body


def test_a_half_written_language_is_refused_at_its_field(app, staff_client, streets, nayoro):
    staff = staff_client("nayoro")
    response = publish(staff, starts_at=NOW_START, title_easy="みずが でません")
    page = response.get_data(as_text=True)
    message = "やさしい日本語の本文を入力してください(タイトルだけでは掲載できません)。"
    assert response.status_code == 422 and re.search(rf'id="body_easy-error">{re.escape(message)}', page)
    assert 'value="みずが でません"' in page and "11月20日9時から断水します。" in page
    assert alerts(app, nayoro) == []


def test_another_citys_alert_texts_never_show(app, staff_client, client_for, streets, nayoro, kanazawa):
    staff_client("kanazawa").submit("/admin/area-alerts/new", alert_form(
        action="publish", starts_at=NOW_START, title_en="Kanazawa only", body_en="Kanazawa only"))
    [theirs] = alerts(app, kanazawa)
    assert publish(staff_client("nayoro"), starts_at=NOW_START).status_code == 302
    english = member_login(client_for, streets["futa"])
    assert "Kanazawa only" not in english.get("/mypage").get_data(as_text=True)
    assert english.get(f"/mypage/alerts/{theirs.id}").status_code == 404
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalars(select(AreaAlertText)).all() == []
        assert db.session.scalar(select(Member.language).where(Member.id == streets["futa"][3])) == "en"
