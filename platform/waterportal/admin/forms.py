"""Forms of the staff console (Japanese messages; every POST form carries a CSRF token)."""
from __future__ import annotations

import datetime as dt
import re
from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import (
    AnyOf,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from waterportal.admin.models import ROLES
from waterportal.core.forms import ConsoleForm, labelled_choices

ROLE_CHOICES = labelled_choices(ROLES)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Required:
    """「<label>を入力してください。」 when the field is empty or blank."""

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, _form, field) -> None:
        if not field.data or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message or f"{field.label.text}を入力してください。")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field(label: str = "メールアドレス") -> StringField:
    return StringField(label, filters=[_strip], validators=[
        Required(), Length(max=254, message="254文字以内で入力してください。"),
        Regexp(EMAIL, message="メールアドレスの形式が正しくありません。"),
    ])


class StaffLoginForm(FlaskForm):
    """職員ログイン: email and password (city staff and the vendor console alike).

    Not a ConsoleForm: credentials are compared as typed, so an email with a control
    character is a failed login (find_staff and find_vendor never query with a NUL).
    """

    email = _email_field()
    password = PasswordField("パスワード", validators=[Required(), Length(max=1024, message="パスワードが長すぎます。")])


class TotpForm(ConsoleForm):
    """The 6-digit code of the authenticator app."""

    code = StringField("確認コード(6桁)", validators=[
        Required(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="6桁の数字で入力してください。"),
    ])


class TotpEnrolForm(TotpForm):
    """Enrolment: the signed candidate secret travels with the code."""

    secret_token = StringField("secret", validators=[Required("画面の有効期限が切れました。もう一度やり直してください。")])


class PasswordChangeForm(ConsoleForm):
    """現在のパスワード, 新しいパスワード twice."""

    current_password = PasswordField("現在のパスワード", validators=[Required()])
    password = PasswordField("新しいパスワード", validators=[Required(), Length(max=128, message="128文字以内で入力してください。")])
    confirm = PasswordField("新しいパスワード(確認)", validators=[Required()])

    def validate_confirm(self, field) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError("新しいパスワードと確認用の入力が一致しません。")


class StaffCreateForm(ConsoleForm):
    """A new staff member; the password is generated and shown once."""

    email = _email_field()
    name = StringField("氏名", validators=[Required(), Length(max=100, message="100文字以内で入力してください。")])
    role = RadioField("権限", choices=ROLE_CHOICES, validate_choice=False, validators=[
        Required("権限を選択してください。"), AnyOf(list(ROLES), message="権限を選択してください。"),
    ])


class ActionForm(ConsoleForm):
    """Only the CSRF token: buttons that change state are POSTs."""


class AuditFilterForm(ConsoleForm):
    """Filters of the audit log (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    actor = StringField("操作者", validators=[Optional(), Length(max=200, message="200文字以内で入力してください。")])
    action = StringField("操作", validators=[Optional(), Length(max=100, message="100文字以内で入力してください。")])
    date_from = StringField("期間(開始日)", validators=[Optional()])
    date_to = StringField("期間(終了日)", validators=[Optional()])

    def _date(self, field) -> dt.date | None:
        try:
            return dt.date.fromisoformat(field.data.strip().replace("/", "-")) if field.data else None
        except ValueError:
            return None

    def validate_date_from(self, field) -> None:
        if field.data and self._date(field) is None:
            raise ValidationError("日付は 2026-04-01 の形式で入力してください。")

    def validate_date_to(self, field) -> None:
        if field.data and self._date(field) is None:
            raise ValidationError("日付は 2026-04-01 の形式で入力してください。")
        start, end = self._date(self.date_from), self._date(field)
        if start and end and end < start:
            raise ValidationError("終了日は開始日以降の日付を入力してください。")

    @property
    def start(self) -> dt.date | None:
        return self._date(self.date_from)

    @property
    def end(self) -> dt.date | None:
        return self._date(self.date_to)
