"""Rendering a mail: the subject is one line that fits the outbox, whatever the city or notice."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from waterportal.extensions import db
from waterportal.mail.services import SUBJECT_MAX, queue_mail, render_mail
from waterportal.tenancy.context import tenant_context

pytestmark = pytest.mark.usefixtures("app_ctx")


def test_long_portal_name_and_notice_title_fit_the_outbox(nayoro):
    # The longest both allow (portal_name 200, notice title 200): stored on PostgreSQL too.
    city = dataclasses.replace(nayoro, portal_name="名" * 200)
    notice = SimpleNamespace(important=True, title="断水" * 100)
    with tenant_context(city):
        message = queue_mail(city, "taro@example.jp", "notice", notice=notice)
        db.session.commit()
        subject = message.subject  # read back in the city (PostgreSQL row security)
    assert len(subject) == SUBJECT_MAX
    assert subject.startswith("【" + "名" * 200 + "】【重要】お知らせ: 断水")
    assert subject.endswith("…")


def test_subject_is_one_line_of_single_spaces(nayoro):
    notice = SimpleNamespace(important=False, title="断水\r\t\u3000のお知らせ")
    subject, _body = render_mail(nayoro, "notice", notice=notice)
    assert subject == f"【{nayoro.portal_name}】お知らせ: 断水 のお知らせ"


def test_short_subject_is_kept_as_written(nayoro):
    subject, _body = render_mail(nayoro, "check")
    assert subject == f"【{nayoro.portal_name}】メール送信の確認"
