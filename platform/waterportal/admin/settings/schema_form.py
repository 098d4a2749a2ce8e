"""Settings forms built from the tenant.toml marshmallow schemas themselves.

Field types, ranges and every rule come from ``tenancy.schemas``: an Integer with a
Range becomes a number input with min/max, a Boolean a checkbox, a List of strings a
textarea (one per line), a List of Nested schemas repeated rows (FAQ, contact windows), and
a list of fixed choices named in ``groups.CHOICES`` one checkbox per choice (表示言語).
Submitted values are validated by loading the section schema, so the console can never
accept what ``tenant apply`` would refuse. Marshmallow's English messages are put into
Japanese here; the schemas' own messages are Japanese already.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from waterportal.admin.settings.groups import (
    CHOICES,
    FIXED_CHOICES,
    HINTS,
    SECTION_TITLES,
    WIDGETS,
    Group,
    label,
)
from waterportal.core.forms import without_controls
from waterportal.tenancy.schemas import (
    COLOUR,
    NULLABLE_SECTIONS,
    TenantDefinitionSchema,
    deep_merge,
)

EXTRA_ROWS = 2
# A repeated row's hidden input: the index of the saved row it was drawn from, kept through a
# preview or a refused save, so a row keeps that row's translations (a window's en / easy).
FROM = "_from"
NONE_KEY = "__none__"


@cache
def section_field(section: str) -> fields.Nested:
    return TenantDefinitionSchema().fields[section]  # type: ignore[return-value]


def section_schema(section: str) -> Schema:
    """A fresh instance of the schema of one tenant.toml section."""
    return type(section_field(section).schema)()


def _range(f: fields.Field) -> tuple[Any, Any]:
    for v in f.validators:
        if isinstance(v, validate.Range):
            return v.min, v.max
    return None, None


def widget(name: str, f: fields.Field) -> str:
    """The input kind of a schema field."""
    generic = re.sub(r"\.\d+\.", ".", name)
    if generic in WIDGETS:
        return WIDGETS[generic]
    if isinstance(f, fields.Boolean):
        return "checkbox"
    if isinstance(f, fields.Integer):
        return "number"
    if isinstance(f, fields.Email):
        return "email"
    if isinstance(f, fields.List):
        return "rows" if isinstance(f.inner, fields.Nested) else "lines"
    if any(isinstance(v, validate.Regexp) and v.regex.pattern == COLOUR.pattern for v in f.validators):
        return "colour"
    return "text"


# --- messages ------------------------------------------------------------------------

_MESSAGES = {
    "Missing data for required field.": "入力してください。",
    "Field may not be null.": "入力してください。",
    "Not a valid integer.": "整数で入力してください。",
    "Not a valid number.": "数値で入力してください。",
    "Special numeric values (nan or infinity) are not permitted.": "数値で入力してください。",
    "Not a valid string.": "文字で入力してください。",
    "Not a valid email address.": "メールアドレスの形式が正しくありません。",
    "Not a valid boolean.": "はい・いいえで指定してください。",
    "Not a valid list.": "形式が正しくありません。",
    "Unknown field.": "この項目は変更できません。",
}


def japanese(message: str, kind: str = "") -> str:
    """Marshmallow's English messages in Japanese; Japanese ones pass through."""
    if message in _MESSAGES:
        return _MESSAGES[message]
    both = re.fullmatch(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.", message)
    if both:
        return f"{both.group(1)}〜{both.group(2)}の範囲で入力してください。"
    low = re.fullmatch(r"Must be greater than or equal to (\S+)\.", message)
    if low:
        return f"{low.group(1)}以上で入力してください。"
    high = re.fullmatch(r"Must be less than or equal to (\S+)\.", message)
    if high:
        return f"{high.group(1)}以下で入力してください。"
    if message == "String does not match expected pattern.":
        return "#RRGGBB の形式(例: #005a9c)で入力してください。" if kind == "colour" else "形式が正しくありません。"
    if message.isascii():
        return "入力内容が正しくありません。"
    return message


def flat_errors(messages: Any, prefix: str) -> dict[str, list[str]]:
    """``{"faq": {0: {"question": [...]}}}`` -> ``{"texts.faq.0.question": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}.{key}"
            for k, v in flat_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list):
        out[prefix] = [str(m) for m in messages]
    else:
        out[prefix] = [str(messages)]
    return out


# --- fields --------------------------------------------------------------------------

@dataclass
class FormField:
    """One input as the template draws it."""

    name: str
    kind: str
    value: Any
    errors: list[str] = field(default_factory=list)
    required: bool = False
    minimum: Any = None
    maximum: Any = None
    overridden: bool = False
    columns: list[tuple[str, str, str, bool]] = field(default_factory=list)  # rows only

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^a-zA-Z0-9_]", "-", self.name)

    @property
    def label(self) -> str:
        return label(self.name)

    @property
    def hint(self) -> str:
        return HINTS.get(self.name, "")

    @property
    def choices(self) -> list[dict[str, Any]]:
        """A "choices" field's boxes: value, Japanese label, input name and id, checked, fixed."""
        fixed = FIXED_CHOICES.get(self.name, ())
        return [{"value": code, "label": text, "name": f"{self.name}.{code}", "id": f"{self.id}-{code}",
                 "checked": code in (self.value or ()) or code in fixed, "fixed": code in fixed}
                for code, text in CHOICES.get(self.name, {}).items()]


def to_raw(kind: str, value: Any) -> Any:
    """A stored setting -> what the input shows."""
    if kind == "checkbox":
        return bool(value)
    if kind == "lines":
        return "\n".join(value or [])
    if kind == "choices":
        return list(value or [])
    if kind == "rows":
        return [{**{k: "" if v is None else str(v) for k, v in (row or {}).items() if not isinstance(v, dict)},
                 FROM: str(i)} for i, row in enumerate(value or [])]
    return "" if value is None else str(value)


def _text(value: str | None, multiline: bool) -> str:
    value = without_controls((value or "").replace("\r\n", "\n").replace("\r", "\n"))
    return value.strip("\n").rstrip() if multiline else value.strip()


def row_columns(inner: Schema) -> dict[str, fields.Field]:
    """The columns of repeated rows; a row's translations (a window's ``en`` / ``easy`` table)
    are edited on the translation's own page (admin.settings.variant_form), not here."""
    return {sub: f for sub, f in inner.fields.items() if not isinstance(f, fields.Nested)}


def submitted_rows(name: str, form: Mapping[str, str], inner: Schema) -> list[tuple[int, dict[str, str]]]:
    """``(index as drawn, row)`` of the rows the browser sent, all-blank rows left out; a row
    drawn from a saved one carries its index under :data:`FROM`."""
    indices = sorted({int(m.group(1)) for k in form if (m := re.fullmatch(rf"{re.escape(name)}\.(\d+)\.\w+", k))})
    rows = []
    for i in indices:
        row = {sub: _text(form.get(f"{name}.{i}.{sub}"), widget(f"{name}.0.{sub}", f) == "textarea")
               for sub, f in row_columns(inner).items()}
        if any(row.values()):  # an all-blank row is a deleted (or unused) row
            origin = form.get(f"{name}.{i}.{FROM}", "")
            rows.append((i, {**row, FROM: origin} if origin.isdigit() else row))
    return rows


def from_form(name: str, kind: str, form: Mapping[str, str], inner: Schema | None = None) -> Any:
    """What the browser sent for one input, cleaned but not yet validated."""
    if kind == "checkbox":
        return name in form
    if kind == "choices":  # one box per choice, ``languages.offered.en``; a fixed one is a hidden input
        return [code for code in CHOICES[name] if f"{name}.{code}" in form]
    if kind == "rows":
        assert inner is not None
        return [row for _, row in submitted_rows(name, form, inner)]
    return _text(form.get(name), kind in ("textarea", "lines"))


def to_data(kind: str, raw: Any, inner: Schema | None = None) -> Any:
    """Raw input -> the value handed to the schema (blank required row fields left out)."""
    if kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == "rows":
        assert inner is not None
        return [{k: v for k, v in row.items() if k != FROM and (v or not inner.fields[k].required)} for row in raw]
    return raw


class SettingsForm:
    """The form of one settings group: fields, submitted values, errors, validated sections."""

    def __init__(self, group: Group, effective: Mapping[str, Any], overrides: Mapping[str, Any]):
        self.group = group
        self.effective = effective
        self.overrides = overrides
        self.errors: dict[str, list[str]] = {}
        self.raw: dict[str, Any] = {}
        self.none: dict[str, bool] = {}
        for section, keys in group.parts:
            current = effective.get(section)
            self.none[section] = current is None
            for key in keys:
                kind, _ = self._kind(section, key)
                self.raw[f"{section}.{key}"] = to_raw(kind, (current or {}).get(key))

    def _kind(self, section: str, key: str) -> tuple[str, Schema | None]:
        f = section_schema(section).fields[key]
        inner = f.inner.schema if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested) else None
        return widget(f"{section}.{key}", f), inner

    def load(self, form: Mapping[str, str]) -> dict[str, Any] | None:
        """Read and validate a submission; return ``{section: full section or None}`` or None on errors."""
        result: dict[str, Any] = {}
        for section, keys in self.group.parts:
            nullable = section in NULLABLE_SECTIONS
            self.none[section] = nullable and f"{section}.{NONE_KEY}" in form
            data: dict[str, Any] = {}
            for key in keys:
                name = f"{section}.{key}"
                kind, inner = self._kind(section, key)
                self.raw[name] = from_form(name, kind, form, inner)
                data[key] = to_data(kind, self.raw[name], inner)
                if inner is not None and len(row_columns(inner)) < len(inner.fields):
                    self._keep_translations(data[key], name, form, inner,
                                            (self.effective.get(section) or {}).get(key) or [])
            if self.none[section]:
                result[section] = None
                continue
            current = self.effective.get(section) or {}
            try:
                result[section] = section_schema(section).load(deep_merge(dict(current), data))
            except ValidationError as exc:
                for name, messages in flat_errors(exc.messages, section).items():
                    kind = widget(name, section_schema(section).fields.get(name.split(".")[1], fields.String()))
                    self.errors.setdefault(name, []).extend(japanese(m, kind) for m in messages)
        return None if self.errors else result

    @staticmethod
    def _keep_translations(rows: list[dict[str, Any]], name: str, form: Mapping[str, str], inner: Schema,
                           saved: list[dict[str, Any]]) -> None:
        """A row saved here keeps the translations (a window's ``en`` / ``easy``, which this page
        does not show) of the saved row it was drawn from (:data:`FROM`), wherever it now stands."""
        nested = [sub for sub in inner.fields if sub not in row_columns(inner)]
        for row, (_, sent) in zip(rows, submitted_rows(name, form, inner), strict=True):
            origin = int(sent.get(FROM, len(saved)))
            if origin < len(saved):
                row.update({sub: saved[origin][sub] for sub in nested if sub in saved[origin]})

    def add_error(self, name: str, message: str) -> None:
        """An error found after the schema (e.g. a refused logo upload), shown next to ``name``."""
        self.errors.setdefault(name, []).append(message)

    def blocks(self) -> list[dict[str, Any]]:
        """Sections with their fields, as the template draws them."""
        out = []
        for section, keys in self.group.parts:
            schema = section_schema(section)
            items = []
            for key in keys:
                name = f"{section}.{key}"
                kind, inner = self._kind(section, key)
                lo, hi = _range(schema.fields[key])
                item = FormField(
                    name=name, kind=kind, value=self.raw[name], errors=self.errors.get(name, []),
                    required=schema.fields[key].required, minimum=lo, maximum=hi,
                    overridden=self.is_overridden(section, key),
                )
                if kind == "rows" and inner is not None:
                    item.columns = [(sub, label(f"{name}.{sub}"), widget(f"{name}.0.{sub}", f), f.required)
                                    for sub, f in row_columns(inner).items()]
                    item.value = list(self.raw[name]) + [dict.fromkeys(row_columns(inner), "")] * EXTRA_ROWS
                items.append(item)
            out.append({
                "section": section, "title": SECTION_TITLES.get(section, section), "fields": items,
                "nullable": section in NULLABLE_SECTIONS, "none": self.none[section],
                "none_name": f"{section}.{NONE_KEY}", "none_label": label(f"{section}.{NONE_KEY}"),
                "errors": self.errors.get(section, []),
            })
        return out

    def is_overridden(self, section: str, key: str) -> bool:
        """True when the city changed this key in the console (it no longer follows tenant.toml)."""
        if section not in self.overrides:
            return False
        value = self.overrides[section]
        return value is None or (isinstance(value, dict) and key in value)

    def cell_errors(self, name: str) -> list[str]:
        """Errors of one row cell (``texts.faq.0.question``)."""
        return self.errors.get(name, [])
