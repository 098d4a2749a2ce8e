"""The form of 料金シミュレーション: 口径, 使用水量, 期間, 下水道 (messages next to their fields)."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, ValidationError

from waterportal.billing.tariff import PERIODS, diameters
from waterportal.core.forms import CitizenForm, labelled_choices

MAX_USAGE = 99_999  # m³: a household uses 10-50 a month; a factory a few thousand


class SimulatorForm(CitizenForm):
    diameter = RadioField(_l("メーターの口径"), validate_choice=False)
    usage = StringField(_l("使用水量(m³)"), validators=[DataRequired(_l("使用水量を入力してください。"))])
    months = RadioField(_l("期間"), choices=labelled_choices({str(k): v for k, v in PERIODS.items()}), default="1",
                        validate_choice=False)
    sewer = RadioField(_l("下水道"), choices=labelled_choices({"1": _l("下水道を使用している"),
                                                            "0": _l("下水道を使用していない(浄化槽など)")}),
                       default="1", validate_choice=False)

    def __init__(self, tariff: Mapping[str, Any], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.offered = [str(d) for d in diameters(tariff)]
        self.diameter.choices = labelled_choices({d: f"{d}mm" for d in self.offered})
        if not self.diameter.data:
            self.diameter.data = self.offered[0]

    def validate_diameter(self, field) -> None:
        if field.data not in self.offered:
            raise ValidationError(_l("メーターの口径を選んでください。"))

    def validate_usage(self, field) -> None:
        # Full-width digits and thousands separators are what people type: ２５, 1,200.
        text = unicodedata.normalize("NFKC", field.data or "").replace(",", "").strip()
        if not (text.isascii() and text.isdigit()):
            raise ValidationError(_l("使用水量は0以上の整数(m³)で入力してください。"))
        if len(text) > len(str(MAX_USAGE)) or int(text) > MAX_USAGE:
            raise ValidationError(_l("使用水量は%(max)sm³以下で入力してください。", max=f"{MAX_USAGE:,}"))
        field.data = str(int(text))

    def validate_months(self, field) -> None:
        if field.data not in {"1", "2"}:
            raise ValidationError(_l("期間を選んでください。"))

    def validate_sewer(self, field) -> None:
        if field.data not in {"0", "1"}:
            raise ValidationError(_l("下水道の使用の有無を選んでください。"))
