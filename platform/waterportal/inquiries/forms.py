"""The form of 「メールでのお問い合わせ」 (messages in Japanese, next to their fields)."""
from __future__ import annotations

import re

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from waterportal.accounts.registration.forms import check_email
from waterportal.core.forms import CitizenForm
from waterportal.core.text import digits_only
from waterportal.inquiries.models import CATEGORIES
from waterportal.tenancy.context import TenantContext

BODY_MAX = 2000


class InquiryForm(CitizenForm):
    """お名前, メールアドレス, お客様番号 (任意), お問い合わせ種別, 件名, お問い合わせ内容."""

    name = StringField(
        "お名前", validators=[DataRequired("お名前を入力してください。"), Length(max=50, message="お名前は50文字以内で入力してください。")]
    )
    email = StringField(
        "メールアドレス",
        validators=[DataRequired("メールアドレスを入力してください。"), Length(max=254, message="メールアドレスが長すぎます。"), check_email],
    )
    customer_number = StringField("お客様番号")
    category = RadioField("お問い合わせ種別", choices=list(CATEGORIES), validate_choice=False)
    subject = StringField(
        "件名", validators=[DataRequired("件名を入力してください。"), Length(max=100, message="件名は100文字以内で入力してください。")]
    )
    body = TextAreaField(
        "お問い合わせ内容",
        validators=[
            DataRequired("お問い合わせ内容を入力してください。"),
            Length(max=BODY_MAX, message=f"お問い合わせ内容は{BODY_MAX}文字以内で入力してください。"),
        ],
    )

    def __init__(self, tenant: TenantContext, **kwargs):
        super().__init__(**kwargs)
        self.tenant = tenant
        self.category.flags.required = True

    def validate_category(self, field: RadioField) -> None:
        # Checked here rather than by WTForms' choice check, whose message is English.
        if field.data not in CATEGORIES:
            raise ValidationError("お問い合わせ種別を選択してください。")

    def validate_customer_number(self, field: StringField) -> None:
        value = digits_only(field.data)
        if not value:
            return
        digits = self.tenant.settings["registration"]["customer_number_digits"]
        if not re.fullmatch(rf"[0-9]{{{digits}}}", value):
            raise ValidationError(f"お客様番号は{digits}桁の数字で入力してください(わからない場合は空欄で構いません)。")
