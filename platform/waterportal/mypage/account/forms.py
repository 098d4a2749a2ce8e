"""Forms of ⑦ 会員登録情報の照会・変更, ⑧ 退会 and ⑨ 各種お手続き (Japanese messages, input kept).

Password fields never re-render what was typed. Rules that need the member or the
database (the current password, uniqueness, the city's password policy) are applied by
the services and shown next to their fields by the views.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from waterportal.accounts.registration.forms import check_email
from waterportal.contracts.forms import ContractFieldsMixin
from waterportal.core.forms import CitizenForm
from waterportal.core.i18n import shown_word
from waterportal.core.text import squash_spaces
from waterportal.mypage.account.links import LABEL_MAX
from waterportal.tenancy.context import TenantContext


def _current_password() -> PasswordField:
    return PasswordField(
        _l("現在のパスワード"),
        validators=[DataRequired(_l("現在のパスワードを入力してください。")), Length(max=1024, message=_l("パスワードが長すぎます。"))],
    )


class NicknameForm(CitizenForm):
    """お名前(ニックネーム)."""

    nickname = StringField(
        _l("お名前(ニックネーム)"),
        validators=[DataRequired(_l("お名前を入力してください。")), Length(max=50, message=_l("お名前は50文字以内で入力してください。"))],
    )

    def validate_nickname(self, field: StringField) -> None:
        if not squash_spaces(field.data):
            raise ValidationError(_l("お名前を入力してください。"))


class EmailChangeForm(CitizenForm):
    """新しいメールアドレス and the current password."""

    email = StringField(
        _l("新しいメールアドレス"),
        validators=[DataRequired(_l("新しいメールアドレスを入力してください。")), Length(max=254, message=_l("メールアドレスが長すぎます。")), check_email],
    )
    password = _current_password()


class PasswordChangeForm(CitizenForm):
    """現在のパスワード, 新しいパスワード twice (the city's policy is checked by the service)."""

    current_password = _current_password()
    password = PasswordField(
        _l("新しいパスワード"),
        validators=[DataRequired(_l("新しいパスワードを入力してください。")), Length(max=1024, message=_l("パスワードが長すぎます。"))],
    )
    password_confirm = PasswordField(
        _l("新しいパスワード(確認用)"),
        validators=[
            DataRequired(_l("確認のため、新しいパスワードをもう一度入力してください。")),
            EqualTo("password", message=_l("新しいパスワードと確認用のパスワードが一致しません。")),
        ],
    )


class NotificationsForm(CitizenForm):
    """お知らせメールの受取設定."""

    notify_bills = BooleanField(_l("請求金額のお知らせメール(新しい請求金額が確定したとき)を受け取る"))
    notify_notices = BooleanField(_l("お知らせメール(市からのお知らせが掲載されたとき)を受け取る"))
    notify_leak = BooleanField(_l("漏水の可能性のお知らせメール(使用量が昨年の同じ時期より大きく増えたとき)を受け取る"))
    # 地区別のお知らせ (alerts/, issue 14 §4): one box per kind; unchecked means no mail of that kind.
    alert_outage = BooleanField(_l("断水のお知らせメール(お住まいの地区で断水があるとき)を受け取る"))
    alert_turbid = BooleanField(_l("濁水のお知らせメール(お住まいの地区で水がにごるおそれがあるとき)を受け取る"))
    alert_works = BooleanField(_l("工事のお知らせメール(お住まいの地区で水道工事があるとき)を受け取る"))
    alert_other = BooleanField(_l("そのほかの地区別のお知らせメールを受け取る"))


class SecretQuestionForm(CitizenForm):
    """秘密の質問 and its answer (login-ID cities), confirmed with the current password."""

    secret_question = SelectField(_l("秘密の質問"), validate_choice=False)
    secret_answer = StringField(
        _l("秘密の質問の答え"),
        validators=[DataRequired(_l("秘密の質問の答えを入力してください。")), Length(max=50, message=_l("秘密の質問の答えは50文字以内で入力してください。"))],
    )
    password = _current_password()

    def __init__(self, tenant: TenantContext, **kwargs):
        super().__init__(**kwargs)
        self.questions = list(tenant.settings["registration"]["secret_questions"])
        self.secret_question.choices = [("", _l("選択してください"))] + [(q, shown_word(q)) for q in self.questions]
        self.secret_question.flags.required = True

    def validate_secret_question(self, field: SelectField) -> None:
        if field.data not in self.questions:
            raise ValidationError(_l("秘密の質問を選択してください。"))

    def validate_secret_answer(self, field: StringField) -> None:
        if not squash_spaces(field.data):
            raise ValidationError(_l("秘密の質問の答えを入力してください。"))


class WithdrawForm(CitizenForm):
    """退会: the password and an explicit confirmation."""

    confirm = BooleanField(
        _l("上記の内容を確認し、退会します"),
        validators=[DataRequired(_l("退会される場合は、「上記の内容を確認し、退会します」にチェックを入れてください。"))],
    )
    password = _current_password()


def _label_field() -> StringField:
    return StringField(
        _l("呼び名"), validators=[Length(max=LABEL_MAX, message=_l("呼び名は%(max)s文字以内で入力してください。", max=LABEL_MAX))]
    )


class AddContractForm(ContractFieldsMixin, CitizenForm):
    """Another contract: the same three details as at registration, plus an optional label."""

    customer_number = StringField(_l("お客様番号"), validators=[DataRequired(_l("お客様番号を入力してください。"))])
    phone = StringField(_l("電話番号"), validators=[DataRequired(_l("電話番号を入力してください。"))])
    holder_kana = StringField(_l("お客様氏名カナ"), validators=[DataRequired(_l("お客様氏名カナを入力してください。"))])
    label = _label_field()

    def __init__(self, tenant: TenantContext, **kwargs):
        super().__init__(**kwargs)
        self.tenant = tenant



class LabelForm(CitizenForm):
    """The member's own name for one linked contract (「自宅」「実家」)."""

    label = _label_field()


class RemoveLinkForm(CitizenForm):
    """Only the CSRF token: removing a link is a POST."""
