"""The search of issued bill documents (電子帳簿保存法's 検索要件: 発行日, 金額, 発行者).

A GET form (no CSRF token: it changes nothing); full-width digits are accepted; every
problem is shown at its field with what was typed kept.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length, ValidationError

from waterportal.core.forms import CitizenForm, labelled_choices
from waterportal.tenancy.context import TenantContext

AMOUNT_MAX = 2_147_483_647


def _date(text: str) -> dt.date | None:
    text = unicodedata.normalize("NFKC", text).strip().replace("/", "-")
    return dt.date.fromisoformat(text) if text else None


def _amount(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    if not text:
        return None
    if not (text.isdigit() and text.isascii()) or len(text) > 10 or int(text) > AMOUNT_MAX:
        raise ValueError(text)
    return int(text)


class DocumentSearchForm(CitizenForm):
    class Meta:
        csrf = False

    issued_from = StringField(_l("発行日(から)"), validators=[Length(max=20, message=_l("日付が長すぎます。"))])
    issued_to = StringField(_l("発行日(まで)"), validators=[Length(max=20, message=_l("日付が長すぎます。"))])
    amount_min = StringField(_l("金額(円以上)"), validators=[Length(max=20, message=_l("金額が長すぎます。"))])
    amount_max = StringField(_l("金額(円以下)"), validators=[Length(max=20, message=_l("金額が長すぎます。"))])
    issuer = SelectField(_l("発行者"), choices=labelled_choices([("", _l("すべて"))]), validate_choice=True)

    def __init__(self, *args, issuers: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        pairs = [("", _l("すべて")), *issuers]
        self.issuer.choices = labelled_choices(pairs)
        self.issuer_values = {value for value, _label in pairs}
        self.issuer.pre_validate = self._known_issuer

    def _known_issuer(self, _form) -> None:
        if (self.issuer.data or "") not in self.issuer_values:
            raise ValidationError(_l("一覧から選んでください。"))

    @staticmethod
    def _check_date(field) -> None:
        try:
            _date(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("日付は 2026-10-01 のように入力してください。")) from exc

    @staticmethod
    def _check_amount(field) -> None:
        try:
            _amount(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("金額は0以上の整数(円)で入力してください。")) from exc

    def validate_issued_from(self, field) -> None:
        self._check_date(field)

    def validate_issued_to(self, field) -> None:
        self._check_date(field)
        try:
            start, end = _date(self.issued_from.data or ""), _date(field.data or "")
        except ValueError:
            return
        if start and end and end < start:
            raise ValidationError(_l("「から」より後の日付を入力してください。"))

    def validate_amount_min(self, field) -> None:
        self._check_amount(field)

    def validate_amount_max(self, field) -> None:
        self._check_amount(field)
        try:
            low, high = _amount(self.amount_min.data or ""), _amount(field.data or "")
        except ValueError:
            return
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("「円以上」より大きい金額を入力してください。"))

    def criteria(self) -> dict:
        """The validated criteria for :func:`waterportal.billing.issuing.search_documents`."""
        return {"issued_from": _date(self.issued_from.data or ""), "issued_to": _date(self.issued_to.data or ""),
                "amount_min": _amount(self.amount_min.data or ""), "amount_max": _amount(self.amount_max.data or ""),
                "issuer": self.issuer.data or None}


def issuer_choices(tenant: TenantContext) -> list[tuple[str, str]]:
    """The city's issuers as (登録番号, 「名寄市(登録番号 T…)」), each number once."""
    pairs = [(issuer["registration_number"], gettext("%(name)s(登録番号 %(number)s)", name=issuer["name"],
                                                     number=issuer["registration_number"]))
             for issuer in tenant.settings["invoice"]["issuers"]]
    return list(dict.fromkeys(pairs))
