"""The 見守り form (issue 14 §6): which contract, the family member's address, how many days."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from waterportal.accounts.registration.forms import check_email
from waterportal.core.forms import CitizenForm, labelled_choices
from waterportal.core.text import normalise_email
from waterportal.readings.watch import DAYS


class WatchForm(CitizenForm):
    """見守りの設定. ``contracts`` are the member's linked contracts with daily readings:
    (id, label shown)."""

    contract_id = RadioField(_l("見守る契約"), validate_choice=False)
    email = StringField(
        _l("ご家族のメールアドレス"),
        validators=[DataRequired(_l("ご家族のメールアドレスを入力してください。")),
                    Length(max=254, message=_l("メールアドレスが長すぎます。")), check_email],
    )
    days = SelectField(_l("お知らせするまでの日数"), validate_choice=False)

    def __init__(self, contracts: list[tuple[int, str]], member_email: str, **kwargs):
        super().__init__(**kwargs)
        self.contract_id.choices = labelled_choices([(str(cid), label) for cid, label in contracts])
        self.contract_id.flags.required = True
        self.days.choices = labelled_choices([(str(n), _l("%(days)s日間", days=n)) for n in DAYS])
        self.days.flags.required = True
        self.allowed = {str(cid) for cid, _label in contracts}
        self.member_email = normalise_email(member_email)

    def validate_contract_id(self, field: RadioField) -> None:
        if field.data not in self.allowed:
            raise ValidationError(_l("見守りの対象にする契約を選択してください。"))

    def validate_days(self, field: SelectField) -> None:
        if field.data not in {str(n) for n in DAYS}:
            raise ValidationError(_l("日数は1日から7日の間で選択してください。"))

    def validate_email(self, field: StringField) -> None:
        if normalise_email(field.data) == self.member_email:
            raise ValidationError(_l("ご自身のメールアドレスではなく、ご家族のメールアドレスを入力してください。"))
