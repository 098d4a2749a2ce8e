"""The contract-matching fields' rules, shared by registration (2/4) and 各種お手続き."""
from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

from waterportal.core.text import digits_only, is_katakana, katakana_name


class ContractFieldsMixin:
    """Validators for お客様番号, 電話番号 and お客様氏名カナ; the form sets ``self.tenant``.

    Input is judged in its normalised form (full-width digits, hyphens, hiragana and
    half-width kana are all accepted), so the messages only name what the citizen must fix.
    """

    def validate_customer_number(self, field: StringField) -> None:
        digits = self.tenant.settings["registration"]["customer_number_digits"]
        if not re.fullmatch(rf"[0-9]{{{digits}}}", digits_only(field.data)):
            raise ValidationError(gettext("お客様番号は%(digits)s桁の数字で入力してください(ハイフンは不要です)。", digits=digits))

    def validate_phone(self, field: StringField) -> None:
        if not re.fullmatch(r"0[0-9]{9,10}", digits_only(field.data)):
            raise ValidationError(_l("電話番号は市外局番から、ハイフンを除いた数字(10桁または11桁)で入力してください。"))

    def validate_holder_kana(self, field: StringField) -> None:
        value = katakana_name(field.data)
        if not is_katakana(value):
            raise ValidationError(_l("お客様氏名カナはカタカナで入力してください(例: スイドウタロウ)。"))
        if len(value) > 50:
            raise ValidationError(_l("お客様氏名カナは50文字以内で入力してください。"))
