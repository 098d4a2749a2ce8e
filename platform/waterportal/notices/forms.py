"""The notice form of the staff console. Times are typed in the city's time zone."""
from __future__ import annotations

import datetime as dt

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from waterportal.core.forms import ConsoleForm
from waterportal.core.time import city_time_text, city_to_utc
from waterportal.notices.models import Notice

FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")
TIME_MESSAGE = "日時は 2026-04-01 09:00 の形式で入力してください。"


def parse_local(value: str | None) -> dt.datetime | None:
    """``2026-04-01T09:00`` (or with a space or slashes) -> naive local datetime, else None."""
    text = (value or "").strip()
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None



class TitleAndText:
    """タイトル (at most 200 characters) and 本文 (plain text, at most 5,000), required and
    stripped, as notices and area alerts (admin/alert_forms.py) check them."""

    def validate_title(self, field) -> None:
        field.data = (field.data or "").strip()
        if not field.data:
            raise StopValidation("タイトルを入力してください。")
        Length(max=200, message="タイトルは200文字以内で入力してください。")(self, field)

    def validate_body(self, field) -> None:
        field.data = (field.data or "").replace("\r\n", "\n").strip()
        if not field.data:
            raise StopValidation("本文を入力してください。")
        Length(max=5000, message="本文は5000文字以内で入力してください。")(self, field)


class NoticeForm(TitleAndText, ConsoleForm):
    """タイトル, 本文 (plain text; URLs become links), 重要, 掲載開始, 掲載終了, メール配信."""

    title = StringField("タイトル")
    body = TextAreaField("本文")
    important = BooleanField("重要なお知らせとして表示する")
    published_at = StringField("掲載開始日時")
    expires_at = StringField("掲載終了日時")
    mail_members = BooleanField("掲載開始時に、お知らせメールを希望する会員へメールで送る")

    def validate_published_at(self, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation("掲載開始日時を入力してください。")
        if parse_local(field.data) is None:
            raise ValidationError(TIME_MESSAGE)

    def validate_expires_at(self, field) -> None:
        if not (field.data or "").strip():
            return
        end = parse_local(field.data)
        if end is None:
            raise ValidationError(TIME_MESSAGE)
        start = parse_local(self.published_at.data)
        if start is not None and end <= start:
            raise ValidationError("掲載終了日時は掲載開始日時より後にしてください。")

    def fill_from(self, notice: Notice, tz_name: str) -> None:
        """Show a stored notice (UTC) in the city's time zone."""
        self.title.data, self.body.data, self.important.data = notice.title, notice.body, notice.important
        self.mail_members.data = notice.mail_members
        self.published_at.data = city_time_text(notice.published_at, tz_name, sep="T")
        self.expires_at.data = city_time_text(notice.expires_at, tz_name, sep="T")

    def values(self, tz_name: str) -> dict:
        """The validated values for notices.services (times converted to UTC)."""
        end = parse_local(self.expires_at.data)
        return {
            "title": self.title.data,
            "body": self.body.data,
            "important": bool(self.important.data),
            "mail_members": bool(self.mail_members.data),
            "published_at": city_to_utc(parse_local(self.published_at.data), tz_name),
            "expires_at": city_to_utc(end, tz_name) if end else None,
        }
