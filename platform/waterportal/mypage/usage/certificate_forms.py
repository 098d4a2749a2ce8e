"""The period of a 収納済証明書: from and to, among the months whose bills are paid."""
from __future__ import annotations

from wtforms import SelectField
from wtforms.validators import ValidationError

from waterportal.core.forms import CitizenForm, labelled_choices
from waterportal.core.i18n import japanese_month_text

NOT_PAID = "お支払いが確認できた請求月から選択してください。"


class PeriodForm(CitizenForm):
    # The choice is checked here (a Japanese message at the field), not by WTForms' English one.
    month_from = SelectField("開始の請求月", validate_choice=False)
    month_to = SelectField("終了の請求月", validate_choice=False)

    def __init__(self, *args, months: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.months = months
        choices = labelled_choices([(month, f"{japanese_month_text(month)}分") for month in months])
        self.month_from.choices = choices
        self.month_to.choices = list(choices)
        if months and not self.is_submitted():
            self.month_from.data, self.month_to.data = months[0], months[-1]

    def validate_month_from(self, field) -> None:
        if field.data not in self.months:
            raise ValidationError(NOT_PAID)

    def validate_month_to(self, field) -> None:
        if field.data not in self.months:
            raise ValidationError(NOT_PAID)
        if self.month_from.data in self.months and field.data < self.month_from.data:
            raise ValidationError("終了の請求月は開始の請求月と同じか、それより後を選択してください。")
