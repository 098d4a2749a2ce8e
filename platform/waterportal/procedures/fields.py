"""Payload fields the kinds share (marshmallow), with the Japanese messages citizens read.

Every field takes its label (``metadata["label"]``: the receipt page, the mail, the CSV
header and the form all use it) and says what is wrong in the field's own words:
「使用開始日を入力してください。」. Values arrive as form strings; the services have
already dropped control characters and trimmed them.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, fields
from marshmallow.experimental.context import Context

from waterportal.core.text import digits_only, is_katakana, katakana_name, squash_spaces
from waterportal.procedures.dates import date_window
from waterportal.tenancy.context import TenantContext

PHONE = re.compile(r"^0\d{9,10}$")


def _label(field: Any) -> str:
    """The field's label in the page's language (procedures/words.py lists every label)."""
    return gettext(field.label)


def _missing(field: Any) -> ValidationError:
    """「…を入力してください。」 (a choice: 「…を選択してください。」) in the page's language."""
    if getattr(field, "verb", "入力") == "選択":
        return ValidationError(gettext("%(label)sを選択してください。", label=_label(field)))
    return ValidationError(gettext("%(label)sを入力してください。", label=_label(field)))


class Text(fields.String):
    """A one-line (or ``multiline``) text: required unless ``required=False``, at most ``max_length``."""

    # What a missing value asks for (「…を入力してください。」; a choice says 選択).
    verb = "入力"

    def __init__(self, label: str, *, required: bool = True, max_length: int = 100, multiline: bool = False,
                 **kwargs: Any):
        super().__init__(required=required, load_default="" if not required else fields.missing_,
                         metadata={"label": label, "max_length": max_length, **kwargs.pop("metadata", {})},
                         error_messages={"required": f"{label}を{self.verb}してください。",
                                         "invalid": f"{label}の形式が正しくありません。"}, **kwargs)
        self.label, self.max_length, self.multiline, self.must = label, max_length, multiline, required

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        # The messages given at import time are Japanese; a citizen reads the page's language.
        if key == "required":
            return _missing(self)
        if key == "invalid":
            return ValidationError(gettext("%(label)sの形式が正しくありません。", label=_label(self)))
        return super().make_error(key, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        text = text.strip() if self.multiline else squash_spaces(text)
        if not text and self.must:
            raise _missing(self)
        if len(text) > self.max_length:
            raise ValidationError(gettext("%(label)sは%(max)s文字以内で入力してください。", label=_label(self),
                                          max=self.max_length))
        return text


class Kana(Text):
    """A name in katakana (hiragana and half-width kana are accepted and converted)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = katakana_name(super()._deserialize(value, attr, data, **kwargs))
        if text and not is_katakana(text):
            raise ValidationError(gettext("%(label)sはカタカナで入力してください。", label=_label(self)))
        return text


class Phone(Text):
    """A Japanese phone number, stored as digits only (hyphens and full-width digits accepted)."""

    def __init__(self, label: str, **kwargs: Any):
        super().__init__(label, max_length=20, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = digits_only(super()._deserialize(value, attr, data, **kwargs))
        if text and not PHONE.match(text):
            raise ValidationError(gettext("%(label)sは0から始まる10桁または11桁の数字で入力してください。", label=_label(self)))
        return text


class Digits(Text):
    """A number typed by the citizen (お客様番号), digits only, ``length`` digits when given."""

    def __init__(self, label: str, *, length: int | None = None, **kwargs: Any):
        super().__init__(label, max_length=40, **kwargs)
        self.length = length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        digits = digits_only(text)
        if text and not digits.isdigit():
            raise ValidationError(gettext("%(label)sは数字で入力してください。", label=_label(self)))
        if digits and self.length and len(digits) != self.length:
            raise ValidationError(gettext("%(label)sは%(length)s桁の数字で入力してください。", label=_label(self),
                                          length=self.length))
        return digits


class Choice(Text):
    """One of ``choices`` (radio buttons or a select)."""

    verb = "選択"

    def __init__(self, label: str, choices: Sequence[str], **kwargs: Any):
        super().__init__(label, max_length=200, metadata={"choices": tuple(choices)}, **kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text and text not in self.choices:
            raise ValidationError(gettext("%(label)sを選択肢から選んでください。", label=_label(self)))
        return text


class Count(fields.Integer):
    """A whole number from ``low`` to ``high`` (世帯人数)."""

    def __init__(self, label: str, low: int, high: int, *, required: bool = True):
        super().__init__(required=required, load_default=None if not required else fields.missing_,
                         allow_none=not required, metadata={"label": label},
                         error_messages={"required": f"{label}を入力してください。",
                                         "invalid": f"{label}は数字で入力してください。"})
        self.label, self.low, self.high = label, low, high

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        if key == "required":
            return _missing(self)
        if key == "invalid":
            return ValidationError(gettext("%(label)sは数字で入力してください。", label=_label(self)))
        return super().make_error(key, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if isinstance(value, str):
            value = digits_only(value)
            if not value:
                if self.required:
                    raise _missing(self)
                return None
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and not self.low <= number <= self.high:
            raise ValidationError(gettext("%(label)sは%(low)sから%(high)sまでの数字で入力してください。", label=_label(self),
                                          low=self.low, high=self.high))
        return number


@dataclass(frozen=True)
class FieldContext:
    """What fields that need the city read while a payload loads (``services.validate_payload``
    sets it with marshmallow's ``Context``)."""

    tenant: TenantContext
    today: dt.date


class Day(fields.Field):
    """A date typed as ``2026-12-04`` (the date input), ``2026/12/4`` or ``2026年12月4日``.

    With ``window=True`` the date must also be inside the city's window (``procedures.dates``:
    lead business days, horizon, no weekend, holiday or closure day); the message names the
    allowed dates. The field's error then shows with every other field's at once."""

    _PATTERN = re.compile(r"^(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?$")

    def __init__(self, label: str, *, required: bool = True, window: bool = False):
        super().__init__(required=required, metadata={"label": label, "widget": "date"},
                         error_messages={"required": f"{label}を入力してください。"})
        self.label, self.window = label, window

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        return _missing(self) if key == "required" else super().make_error(key, **kwargs)

    def _deserialize(self, value: Any, *_: Any, **__: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value or "").strip()
        if not text:
            raise _missing(self)
        match = self._PATTERN.match(unicodedata.normalize("NFKC", text))
        try:
            if not match:
                raise ValueError
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValidationError(gettext("%(label)sは 2026-12-04 の形式で、正しい日付を入力してください。",
                                          label=_label(self))) from None
        if self.window:
            context = Context[FieldContext].get(None)
            if context is not None:
                found = date_window(context.tenant, context.today)
                if not found.allows(day):
                    raise ValidationError(found.message())
        return day

    def _serialize(self, value: Any, *_: Any, **__: Any) -> str | None:
        return value.isoformat() if isinstance(value, dt.date) else value


def display_value(value: Any, choices: Sequence[str] = ()) -> str:
    """A payload value for the receipt rows: the form's own choices in the page's language
    (procedures/words.py lists them), what the citizen typed as typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list):
        return "、".join(display_value(v, choices) for v in value)
    return gettext(value) if value in choices else str(value)
