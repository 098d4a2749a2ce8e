"""Forms of the registration steps. Every message is Japanese and sits next to its field.

Input is kept as typed (so a re-rendered form shows it); the normalised forms used for
matching come from :meth:`DetailsForm.cleaned`.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from waterportal.accounts.registration.services import login_id_taken
from waterportal.accounts.verification import CODE_PATTERN, MESSAGES, CodeStatus
from waterportal.contracts.forms import ContractFieldsMixin
from waterportal.core.auth.passwords import password_problems
from waterportal.core.forms import CitizenForm
from waterportal.core.i18n import shown_word
from waterportal.core.text import (
    digits_only,
    katakana_name,
    normalise_email,
    squash_spaces,
)
from waterportal.tenancy.context import TenantContext

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
LOGIN_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")


def check_email(_form: CitizenForm, field: StringField) -> None:
    """A plausible address (no IDN or quoted local parts: mail to them is not deliverable here)."""
    value = normalise_email(field.data)
    if value and (len(value) > 254 or not EMAIL.match(value)):
        raise ValidationError(_l("メールアドレスの形式が正しくありません(例: suido@example.jp)。"))


def login_id_rule(tenant: TenantContext) -> str:
    """The login ID rule as shown next to the field (in the request's language)."""
    login = tenant.settings["login"]
    return gettext("%(low)s〜%(high)s文字の半角英数字と記号(- _)で入力してください。",
                   low=login["login_id_min_length"], high=login["login_id_max_length"])


def normalise_login_id(value: str | None) -> str:
    """Full-width letters and digits to half-width; surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", value or "").strip()


def _choice(message: str):
    def check(_form: CitizenForm, field) -> None:
        if not field.data or field.data not in [value for value, _ in field.choices]:
            raise ValidationError(message)

    check.field_flags = {"required": True}
    return check


class EmailForm(CitizenForm):
    """1/4: the address the code goes to."""

    # Step 1 is translated (core/i18n.py): lazy gettext labels and messages.
    email = StringField(
        _l("メールアドレス"),
        validators=[DataRequired(_l("メールアドレスを入力してください。")), Length(max=254, message=_l("メールアドレスが長すぎます。")),
                    check_email],
    )


class CodeForm(CitizenForm):
    """The six-digit code from the mail (registration 1/4, and the email change in ⑦)."""

    code = StringField(_l("認証コード"), validators=[DataRequired(_l("認証コードを入力してください。"))])

    def validate_code(self, field: StringField) -> None:
        if not CODE_PATTERN.match(digits_only(field.data)):
            raise ValidationError(MESSAGES[CodeStatus.MALFORMED])


class DetailsForm(ContractFieldsMixin, CitizenForm):
    """2/4: member details and the contract to link, shaped by the city's settings.

    ``login_id``, ``secret_question`` and ``secret_answer`` exist only in login-ID
    cities. With ``has_password`` (returning via 訂正) the password may be left empty
    to keep the one entered before.
    """

    # Steps 2-4 are translated (core/i18n.py): lazy gettext labels and messages.
    login_id = StringField(_l("ログインID"), validators=[DataRequired(_l("ログインIDを入力してください。"))])
    nickname = StringField(
        _l("お名前(ニックネームでも登録いただけます)"),
        validators=[DataRequired(_l("お名前を入力してください。")), Length(max=50, message=_l("お名前は50文字以内で入力してください。"))],
    )
    password = PasswordField(_l("パスワード"))
    password_confirm = PasswordField(_l("パスワード(確認用)"))
    secret_question = SelectField(_l("秘密の質問"), validate_choice=False, validators=[_choice(_l("秘密の質問を選択してください。"))])
    secret_answer = StringField(_l("秘密の質問の答え"))
    customer_number = StringField(_l("お客様番号"), validators=[DataRequired(_l("お客様番号を入力してください。"))])
    phone = StringField(_l("電話番号"), validators=[DataRequired(_l("電話番号を入力してください。"))])
    holder_kana = StringField(_l("お客様氏名カナ"), validators=[DataRequired(_l("お客様氏名カナを入力してください。"))])
    agree_terms = BooleanField(_l("利用規約"), validators=[DataRequired(_l("利用規約をお読みいただき、「同意する」にチェックを入れてください。"))])
    agree_privacy = BooleanField(
        _l("個人情報の取り扱いについて"),
        validators=[DataRequired(_l("個人情報の取り扱いについてお読みいただき、「同意する」にチェックを入れてください。"))],
    )
    relationship = RadioField(_l("申込者と契約者の関係"), validate_choice=False,
                              validators=[_choice(_l("申込者と契約者の関係を選択してください。"))])
    payment_method = RadioField(_l("支払方法"), validate_choice=False, validators=[_choice(_l("支払方法を選択してください。"))])

    def __init__(self, tenant: TenantContext, email: str, has_password: bool = False, has_answer: bool = False, **kwargs: Any):
        registration = tenant.settings["registration"]
        # Defaults go in ``data`` (WTForms lets keyword arguments override ``data``).
        defaults = {"relationship": registration["relationships"][0], "payment_method": registration["payment_methods"][0]}
        kwargs["data"] = {**defaults, **(kwargs.get("data") or {})}
        super().__init__(**kwargs)
        self.tenant = tenant
        self.email = email
        self.has_password = has_password
        self.has_answer = has_answer
        # Stored as the city wrote them, shown in the page's language (accounts/words.py).
        self.relationship.choices = [(v, shown_word(v)) for v in registration["relationships"]]
        self.payment_method.choices = [(v, shown_word(v)) for v in registration["payment_methods"]]
        if tenant.login_mode == "login_id":
            self.secret_question.choices = [("", _l("選択してください"))] + [
                (q, shown_word(q)) for q in registration["secret_questions"]]
            self.secret_answer.flags.required = not has_answer
        else:
            del self.login_id
            del self.secret_question
            del self.secret_answer
        self.password.flags.required = not has_password
        self.password_confirm.flags.required = not has_password

    # -- field rules -------------------------------------------------------------
    def validate_login_id(self, field: StringField) -> None:
        login = self.tenant.settings["login"]
        value = normalise_login_id(field.data)
        low, high = login["login_id_min_length"], login["login_id_max_length"]
        if not (low <= len(value) <= high) or not LOGIN_ID_CHARS.match(value):
            raise ValidationError(gettext("ログインIDは%(rule)s", rule=login_id_rule(self.tenant)))
        if login_id_taken(self.tenant, value):
            raise ValidationError(_l("このログインIDは既に使われています。別のログインIDを入力してください。"))

    def validate_password(self, field: PasswordField) -> None:
        if not field.data:
            if self.has_password:
                return
            raise ValidationError(_l("パスワードを入力してください。"))
        login_id = normalise_login_id(self.login_id.data) if "login_id" in self else None
        problems = password_problems(field.data, self.tenant.settings["password_policy"], email=self.email,
                                     login_id=login_id, name=self.nickname.data)
        if problems:
            # One message per broken rule, all shown next to the field.
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])

    def validate_password_confirm(self, field: PasswordField) -> None:
        if not self.password.data and self.has_password and not field.data:
            return
        if not field.data:
            raise ValidationError(_l("確認のため、パスワードをもう一度入力してください。"))
        if field.data != self.password.data:
            raise ValidationError(_l("パスワードとパスワード(確認用)が一致しません。"))

    def validate_secret_answer(self, field: StringField) -> None:
        value = squash_spaces(field.data)
        if not value:
            if self.has_answer:
                return
            raise ValidationError(_l("秘密の質問の答えを入力してください。"))
        if len(value) > 50:
            raise ValidationError(_l("秘密の質問の答えは50文字以内で入力してください。"))


    # -- output ------------------------------------------------------------------
    def cleaned(self) -> dict[str, Any]:
        """What the draft keeps: the values as typed plus their normalised forms."""
        details = {
            "nickname": squash_spaces(self.nickname.data),
            "customer_number": digits_only(self.customer_number.data),
            "phone": digits_only(self.phone.data),
            "holder_kana": katakana_name(self.holder_kana.data),
            "relationship": self.relationship.data,
            "payment_method": self.payment_method.data,
            "typed": {
                "customer_number": self.customer_number.data,
                "phone": self.phone.data,
                "holder_kana": self.holder_kana.data,
            },
        }
        if "login_id" in self:
            details["login_id"] = normalise_login_id(self.login_id.data)
            details["secret_question"] = self.secret_question.data
        return details

    @staticmethod
    def initial(details: dict[str, Any]) -> dict[str, Any]:
        """Form data from a draft's details (訂正): what the citizen typed, boxes ticked."""
        if not details:
            return {}
        data = {k: v for k, v in details.items() if k != "typed"}
        data.update(details.get("typed", {}))
        data.update(agree_terms=True, agree_privacy=True)
        return data
