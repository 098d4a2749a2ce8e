"""The worker's fan-out mail in each member's language (issue 13 §10): the bill mail (one body
per member, rendered in groups of one language) and the notice mail (one body per language),
delivered through the real SMTP helper."""
from __future__ import annotations

import datetime as dt

import time_machine

from tests.admin.test_notices import NOW
from tests.billing.test_bill_mail import NAYORO_NO, expand
from tests.imports.helpers import bill_row, csv_text
from tests.smtp import body_text
from waterportal.billing import notify
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS, PAYMENT_COLUMNS
from waterportal.mail.sender import send_due
from waterportal.notices.services import create_notice
from waterportal.tenancy.context import tenant_context

OCTOBER = bill_row(NAYORO_NO, "2026-10", water_charge="3309", sewer_charge="2200", tax="500", total="5509",
                   usage_m3="21", previous_reading="100", current_reading="121", due_date="2026-10-31", payment_method="口座振替", transfer_date="2026-10-26",
                   transfer_result="1")


def load_with_payment(app, tenant, row):
    """Import one bill with its payment columns (振替日, 振替結果) through the real service."""
    with app.app_context(), tenant_context(tenant):
        data = csv_text(BILL_COLUMNS + PAYMENT_COLUMNS, [row]).encode()
        result = import_bills(tenant, data, filename="bills.csv")
        db.session.commit()
        assert result.ok, result.errors
        return result


def delivered(app, smtp_server, count):
    """Send the outbox through the real SMTP server; ``{address: (subject, body)}``."""
    with app.app_context():
        assert send_due().sent == count
    return {m["To"]: (m["Subject"], body_text(m)) for m in smtp_server.wait_for(count)}


def test_the_bill_mail_is_in_each_members_language(app, nayoro, customer, clock, smtp_server, monkeypatch):
    customer(nayoro, [NAYORO_NO])  # hanako: Japanese
    customer(nayoro, [NAYORO_NO], email="en@example.jp", nickname="Alex", language="en")
    customer(nayoro, [NAYORO_NO], email="en2@example.jp", nickname="Sam", language="en")
    customer(nayoro, [NAYORO_NO], email="easy@example.jp", nickname="Linh", language="easy")
    switched = []
    real = notify.renderer_in

    def counting(tenant, template, language):
        switched.append(language)
        return real(tenant, template, language)

    monkeypatch.setattr(notify, "renderer_in", counting)
    result = load_with_payment(app, nayoro, OCTOBER)
    assert result.inserted == 1 and expand(app) == 4
    assert sorted(switched) == ["easy", "en", "ja"]  # one switch per language (two English members)
    mails = delivered(app, smtp_server, 4)

    subject, body = mails["hanako@example.jp"]
    assert subject == "【名寄市上下水道ポータル】今回の請求金額のお知らせ(令和8年10月分)"  # the manual's Japanese, 和暦
    assert "今回の請求金額: 5,509 円" in body and "納期限: 令和8年10月31日" in body and "理由: 資金不足" in body

    subject, body = mails["en@example.jp"]
    assert subject == "[名寄市上下水道ポータル] Your bill for October 2026"
    assert "Dear Alex," in body and "Amount billed: 5,509 yen" in body
    assert "Due date: Oct 31, 2026" in body and "Payment method: Direct debit (debited on Oct 26, 2026)" in body
    assert "The direct debit failed (reason: insufficient funds)." in body and "http://nayoro.localhost/mypage" in body
    assert mails["en2@example.jp"][0] == subject

    subject, body = mails["easy@example.jp"]
    assert subject == "【名寄市上下水道ポータル】2026年10月の りょうきんの おしらせ"
    assert "こんかいの りょうきん: 5,509 えん" in body and "はらう きげん: 2026/10/31" in body
    assert "ぎんこうから ひきおとせませんでした（りゆう: おかねが たりない）。" in body


def test_the_notice_mail_is_rendered_once_per_language(app, kanazawa, make_member, smtp_server):
    make_member(kanazawa, email="ja@example.jp", login_id="ja-member")
    make_member(kanazawa, email="en@example.jp", login_id="en-member", language="en")
    make_member(kanazawa, email="easy@example.jp", login_id="easy-member", language="easy")
    make_member(kanazawa, email="quiet@example.jp", login_id="quiet-member", language="en", notify_notices=False)
    with time_machine.travel(NOW, tick=False):
        with app.app_context(), tenant_context(kanazawa):
            create_notice(kanazawa, "staff", title="断水のお知らせ", body="12月1日は断水します。", important=True,
                          published_at=dt.datetime(2026, 11, 1), mail_members=True)
            db.session.commit()
        assert expand(app) == 3
        mails = delivered(app, smtp_server, 3)
    portal = "金沢市上下水道ポータルサイト"
    assert mails["ja@example.jp"][0] == f"【{portal}】【重要】お知らせ: 断水のお知らせ"
    assert mails["en@example.jp"][0] == f"[{portal}] [Important] Notice: 断水のお知らせ"
    assert mails["easy@example.jp"][0] == f"【{portal}】【だいじ】おしらせ: 断水のお知らせ"
    assert "12月1日は断水します。" in mails["en@example.jp"][1] and "Please do not reply" in mails["en@example.jp"][1]
