"""Forms of login, logout, password reset and login-ID recovery (messages in Japanese).

Every form is a CitizenForm (a FlaskForm), so each carries a CSRF token. Password fields never
re-render what was typed; every other field keeps it.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, StopValidation

from waterportal.core.forms import CitizenForm

# Loose on purpose: the mail that follows is the real check of an address.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MESSAGE = _l("メールアドレスの形式が正しくありません。")


class Required(DataRequired):
    """``DataRequired`` saying 「<label>を入力してください。」 with the label the form has now."""

    def __call__(self, _form, field) -> None:
        if not field.data or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message or _l("%(label)sを入力してください。", label=field.label.text))


def _email_validators() -> list:
    return [
        DataRequired(_l("メールアドレスを入力してください。")),
        Length(max=254, message=_l("メールアドレスは254文字以内で入力してください。")),
        Regexp(EMAIL_PATTERN, message=EMAIL_MESSAGE),
    ]


class LoginForm(CitizenForm):
    """メールアドレス or ログインID (label set per city), パスワード, 次回からIDの入力を省略."""

    # The login page is translated (core/i18n.py): labels and messages are lazy gettext strings.
    identifier = StringField(
        _l("ログインID"), validators=[Required(), Length(max=254, message=_l("254文字以内で入力してください。"))]
    )
    password = PasswordField(
        _l("パスワード"),
        validators=[DataRequired(_l("パスワードを入力してください。")), Length(max=1024, message=_l("パスワードが長すぎます。"))],
    )
    remember_id = BooleanField(_l("次回からIDの入力を省略"))

    def set_mode(self, mode: str) -> None:
        """Label and messages for the city's login mode (``email`` or ``login_id``)."""
        name = _l("メールアドレス") if mode == "email" else _l("ログインID")
        self.identifier.label.text = name
        if mode == "email":
            self.remember_id.label.text = _l("次回からメールアドレスの入力を省略")


class LogoutForm(CitizenForm):
    """Only the CSRF token: logging out is a POST."""


class UnlockForm(CitizenForm):
    """Only the CSRF token: the mailed unlock link acts on its button's POST, never on GET."""


class EmailForm(CitizenForm):
    """The registered メールアドレス (password reset request, recovery step 1)."""

    email = StringField(_l("メールアドレス"), validators=_email_validators())


class AnswerForm(CitizenForm):
    """The answer to the secret question (recovery step 2)."""

    answer = StringField(
        _l("秘密の質問の答え"),
        validators=[DataRequired(_l("答えを入力してください。")), Length(max=100, message=_l("100文字以内で入力してください。"))],
    )


class NewPasswordForm(CitizenForm):
    """新しいパスワード twice; the city's policy is applied by the view (it needs the member)."""

    password = PasswordField(
        _l("新しいパスワード"),
        validators=[DataRequired(_l("新しいパスワードを入力してください。")), Length(max=1024, message=_l("パスワードが長すぎます。"))],
    )
    password_confirm = PasswordField(
        _l("新しいパスワード(確認)"),
        validators=[
            DataRequired(_l("確認のため、もう一度入力してください。")),
            EqualTo("password", message=_l("確認用のパスワードが一致しません。")),
        ],
    )
