"""The form of 「メールでのお問い合わせ」 (messages in Japanese, next to their fields)."""
from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from waterportal.accounts.registration.forms import check_email
from waterportal.core.forms import CitizenForm, labelled_choices
from waterportal.core.text import digits_only
from waterportal.inquiries.models import CATEGORIES
from waterportal.tenancy.context import TenantContext

BODY_MAX = 2000
# The categories' labels in the page's language (the stored value stays the Japanese one).
CATEGORY_LABELS = {
    "料金・使用量": _l("料金・使用量"), "引越し・名義変更": _l("引越し・名義変更"),
    "ポータルサイトの操作": _l("ポータルサイトの操作"), "その他": _l("その他"),
}


class InquiryForm(CitizenForm):
    """お名前, メールアドレス, お客様番号 (任意), お問い合わせ種別, 件名, お問い合わせ内容."""

    name = StringField(
        _l("お名前"), validators=[DataRequired(_l("お名前を入力してください。")), Length(max=50, message=_l("お名前は50文字以内で入力してください。"))]
    )
    email = StringField(
        _l("メールアドレス"),
        validators=[DataRequired(_l("メールアドレスを入力してください。")), Length(max=254, message=_l("メールアドレスが長すぎます。")), check_email],
    )
    customer_number = StringField(_l("お客様番号"))
    category = RadioField(_l("お問い合わせ種別"), choices=labelled_choices(CATEGORY_LABELS), validate_choice=False)
    subject = StringField(
        _l("件名"), validators=[DataRequired(_l("件名を入力してください。")), Length(max=100, message=_l("件名は100文字以内で入力してください。"))]
    )
    body = TextAreaField(
        _l("お問い合わせ内容"),
        validators=[
            DataRequired(_l("お問い合わせ内容を入力してください。")),
            Length(max=BODY_MAX, message=_l("お問い合わせ内容は%(max)s文字以内で入力してください。", max=BODY_MAX)),
        ],
    )

    def __init__(self, tenant: TenantContext, **kwargs):
        super().__init__(**kwargs)
        self.tenant = tenant
        self.category.flags.required = True

    def validate_category(self, field: RadioField) -> None:
        # Checked here rather than by WTForms' choice check, whose message is English.
        if field.data not in CATEGORIES:
            raise ValidationError(_l("お問い合わせ種別を選択してください。"))

    def validate_customer_number(self, field: StringField) -> None:
        value = digits_only(field.data)
        if not value:
            return
        digits = self.tenant.settings["registration"]["customer_number_digits"]
        if not re.fullmatch(rf"[0-9]{{{digits}}}", value):
            raise ValidationError(gettext("お客様番号は%(digits)s桁の数字で入力してください(わからない場合は空欄で構いません)。", digits=digits))
