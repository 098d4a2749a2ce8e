"""The notice form of the staff console. Times are typed in the city's time zone; the title
and body may be written in English and やさしい日本語 too, for the languages the city offers."""
from __future__ import annotations

import datetime as dt

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from waterportal.core.forms import ConsoleForm
from waterportal.core.time import city_time_text, city_to_utc
from waterportal.notices.models import Notice, NoticeText

FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")
TIME_MESSAGE = "日時は 2026-04-01 09:00 の形式で入力してください。"
# The languages a notice may be written in besides Japanese, as the console names them.
VARIANT_NAMES = {"en": "英語", "easy": "やさしい日本語"}


def parse_local(value: str | None) -> dt.datetime | None:
    """``2026-04-01T09:00`` (or with a space or slashes) -> naive local datetime, else None."""
    text = (value or "").strip()
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None



TITLE_MAX, BODY_MAX = 200, 5000  # characters, in every language


def clean_title(value: str | None) -> str:
    return (value or "").strip()


def clean_body(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


class TitleAndText:
    """タイトル (at most 200 characters) and 本文 (plain text, at most 5,000), required and
    stripped, as notices and area alerts (admin/alert_forms.py) check them."""

    def validate_title(self, field) -> None:
        field.data = clean_title(field.data)
        if not field.data:
            raise StopValidation("タイトルを入力してください。")
        Length(max=TITLE_MAX, message=f"タイトルは{TITLE_MAX}文字以内で入力してください。")(self, field)

    def validate_body(self, field) -> None:
        field.data = clean_body(field.data)
        if not field.data:
            raise StopValidation("本文を入力してください。")
        Length(max=BODY_MAX, message=f"本文は{BODY_MAX}文字以内で入力してください。")(self, field)


def other_language_fields() -> tuple:
    """``title_en, body_en, title_easy, body_easy`` for a form's class body, written where the
    form draws them (WTForms orders fields, and so the error summary, by creation)."""
    return tuple(field for name in VARIANT_NAMES.values()
                 for field in (StringField(f"タイトル({name})"), TextAreaField(f"本文({name})")))


class OtherLanguages:
    """The optional タイトル・本文 in English and やさしい日本語 of notices and area alerts
    (admin/alert_forms.py; their fields from :func:`other_language_fields`): only the
    ``languages`` given (those the city offers) are shown, checked and saved; a language needs
    both or neither."""

    def __init__(self, *args, languages: tuple[str, ...] | list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.languages = [code for code in VARIANT_NAMES if code in languages]

    def variant_fields(self) -> list[tuple[str, str, StringField, TextAreaField]]:
        """``(code, name, title field, body field)`` of each language the form offers."""
        return [(code, VARIANT_NAMES[code], self[f"title_{code}"], self[f"body_{code}"]) for code in self.languages]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for _code, name, title, body in self.variant_fields():
            title.data, body.data = clean_title(title.data), clean_body(body.data)
            if len(title.data) > TITLE_MAX:
                title.errors.append(f"{name}のタイトルは{TITLE_MAX}文字以内で入力してください。")
            if len(body.data) > BODY_MAX:
                body.errors.append(f"{name}の本文は{BODY_MAX}文字以内で入力してください。")
            if body.data and not title.data:
                title.errors.append(f"{name}のタイトルを入力してください(本文だけでは掲載できません)。")
            if title.data and not body.data:
                body.errors.append(f"{name}の本文を入力してください(タイトルだけでは掲載できません)。")
            valid = valid and not title.errors and not body.errors
        return valid

    def texts(self) -> dict[str, tuple[str, str] | None]:
        """{language: (title, body)} for the services; an emptied language is None (its text is
        removed), languages the form does not offer are left out (kept)."""
        return {code: (title.data, body.data) if title.data else None
                for code, _name, title, body in self.variant_fields()}


class NoticeForm(OtherLanguages, TitleAndText, ConsoleForm):
    """タイトル, 本文 (plain text; URLs become links), 重要, 掲載開始, 掲載終了, メール配信, and the
    optional texts in other languages (:class:`OtherLanguages`)."""

    title = StringField("タイトル")
    body = TextAreaField("本文")
    title_en, body_en, title_easy, body_easy = other_language_fields()
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

    def fill_from(self, notice: Notice, texts: dict[str, NoticeText], tz_name: str) -> None:
        """Show a stored notice (UTC) in the city's time zone, with its texts in other languages."""
        self.title.data, self.body.data, self.important.data = notice.title, notice.body, notice.important
        for code, _name, title, body in self.variant_fields():
            if code in texts:
                title.data, body.data = texts[code].title, texts[code].body
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
            "texts": self.texts(),
        }
