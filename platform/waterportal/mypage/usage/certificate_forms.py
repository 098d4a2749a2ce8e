"""The period of a 収納済証明書: from and to, among the months whose bills are paid."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError

from waterportal.core.forms import CitizenForm, labelled_choices
from waterportal.core.i18n import format_month

NOT_PAID = _l("お支払いが確認できた請求月から選択してください。")


class PeriodForm(CitizenForm):
    # The choice is checked here (our message at the field, in the page's language), not by WTForms' own.
    month_from = SelectField(_l("開始の請求月"), validate_choice=False)
    month_to = SelectField(_l("終了の請求月"), validate_choice=False)

    def __init__(self, *args, months: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.months = months
        # 2026年10月分 (令和8年10月分 where the city writes 和暦), October 2026 in English
        choices = labelled_choices([(month, gettext("%(month)s分", month=format_month(month))) for month in months])
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
            raise ValidationError(_l("終了の請求月は開始の請求月と同じか、それより後を選択してください。"))
