"""What 減免申請 (``reduction``) and 漏水減額申請 (``leak_reduction``) share: billing months
typed by the citizen, the city's list of reduction kinds, and their receipt rows.

A billing month is stored as ``2026-10`` (the CSV export's format, the billing system's
``billing_month``) and shown as 「2026年10月分」. Which months a form accepts is a window
around the city's today, and the refusal names it.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, fields

from waterportal.core.i18n import current_language, format_month, format_ymd
from waterportal.procedures.kinds import ProcedureKind
from waterportal.tenancy.context import TenantContext

_MONTH = re.compile(r"^(\d{4})\s*[-/年.]\s*(\d{1,2})\s*(?:月分?)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Month(fields.Field):
    """A month typed as ``2026-10`` (the month input), ``2026/10`` or ``2026年10月``; stored as ``2026-10``."""

    def __init__(self, label: str, *, required: bool = True):
        super().__init__(required=required, load_default="" if not required else fields.missing_,
                         metadata={"label": label, "widget": "month"},
                         error_messages={"required": f"{label}を入力してください。"})
        self.label, self.must = label, required

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        # The message given at import time is Japanese; a citizen reads the page's language.
        return self._missing() if key == "required" else super().make_error(key, **kwargs)

    def _missing(self) -> ValidationError:
        return ValidationError(gettext("%(label)sを入力してください。", label=gettext(self.label)))

    def _deserialize(self, value: Any, *_: Any, **__: Any) -> str:
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        if not text:
            if self.must:
                raise self._missing()
            return ""
        match = _MONTH.match(text)
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise ValidationError(gettext("%(label)sは 2026-10 の形式で、正しい年月を入力してください。",
                                          label=gettext(self.label)))
        return f"{int(match[1]):04d}-{int(match[2]):02d}"


def month_index(month: str) -> int:
    """``2026-10`` -> a number that grows by one per month."""
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(month: str, months: int) -> str:
    index = month_index(month) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_ja(month: str) -> str:
    """``2026-10`` -> 2026年10月."""
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


def month_words(month: str) -> str:
    """``2026-10`` in the page's language: 2026年10月 (Japanese and やさしい日本語), October 2026."""
    return format_month(month) if current_language() == "en" else month_ja(month)


def month_window_message(label: str, first: str, last: str) -> str:
    """「…は2026年10月から2027年4月までの月を指定してください。」 in the page's language."""
    return gettext("%(label)sは%(first)sから%(last)sまでの月を指定してください。", label=gettext(str(label)),
                   first=month_words(first), last=month_words(last))


def reduction_kinds(tenant: TenantContext) -> list[Mapping[str, str]]:
    """The city's 減免 types (``[[procedures.reduction_kinds]]``: name, note), in its order."""
    return list(tenant.settings["procedures"]["reduction_kinds"])


def shown_value(value: Any, field: fields.Field | None = None) -> str:
    """A payload value as the receipt page and mail show it, in their language: a month
    field's month (「2026年10月分」, "October 2026"), a date field's date (「2026年12月4日」,
    "Dec 4, 2026") and the form's own choices translated; what the citizen typed as typed
    (a 受給者証 number that looks like a date stays as typed)."""
    text = "" if value is None else str(value)
    widget = field.metadata.get("widget") if field is not None else None
    if widget == "month" and re.fullmatch(r"\d{4}-\d{2}", text):
        return gettext("%(month)s分", month=month_words(text))
    if widget == "date" and _DAY.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text
        return format_ymd(day) if current_language() == "en" else f"{day.year}年{day.month}月{day.day}日"
    choices = field.metadata.get("choices", ()) if field is not None else ()
    return gettext(text) if text in choices else text


def summary_rows(kind: ProcedureKind, shown: Mapping[str, Any], starts: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The receipt rows of ``kind``: every filled labelled field, months, dates and choices
    in the page's language; the months of ``starts`` say from when (「2026年12月分から」)."""
    fields = kind.schema().fields
    rows = []
    for key, label in kind.labelled_fields():
        if shown.get(key) in (None, ""):
            continue
        value = shown_value(shown[key], fields[key])
        rows.append((label, gettext("%(month)sから", month=value) if key in starts else value))
    return rows
