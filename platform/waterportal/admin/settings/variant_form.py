"""The English / やさしい日本語 form of a translatable settings group (issue 13 §10).

「ページの文章」 edits ``[texts.<lang>]`` (about ... registration_done), 「よくある質問」
``[[texts.<lang>.faq]]`` and 「お問い合わせ窓口」 each window's ``en`` / ``easy`` table (name,
hours, address, note; the phone is shared). The Japanese text stands next to each input as
a read-only reference. A field left empty means "show the Japanese one" (the citizen page
adds a note): it is left out of the translation, or kept as ``""`` where tenant.toml or an
earlier save wrote one, so the merged settings cannot bring the old translation back.

The result is validated by loading the whole section through the same tenant.toml schema
as the Japanese form (admin.schema_form), so a mistyped placeholder is refused at its field
with its key named, and it is saved through the same service (revision, audit, rollback).
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from waterportal.admin.settings.groups import GROUPS, WIDGETS, Group
from waterportal.admin.settings.schema_form import (
    EXTRA_ROWS,
    FormField,
    _text,
    flat_errors,
    from_form,
    japanese,
    section_schema,
    to_data,
    to_raw,
)
from waterportal.tenancy.schemas import FaqSchema
from waterportal.tenancy.windows import TRANSLATED_FIELDS

TEXT_KEYS = GROUPS["pages"].parts[0][1]
EMPTY_HINT = "空欄にすると日本語の文章を表示します(「日本語だけで掲載しています」と添えます)。"
FAQ_HINT = ("日本語の質問と組にならなくてもかまいません。両方を空欄にした行は削除されます。"
            "すべて空欄にすると、日本語の質問と回答を表示します(「日本語だけで掲載しています」と添えます)。")
WINDOW_HINT = ("電話番号は日本語のページと共通です。空欄の項目は日本語で表示します"
               "(「日本語だけで掲載しています」と添えます)。")


@dataclass
class VariantField(FormField):
    """One translated input with its Japanese original (drawn beside it)."""

    original: Any = ""


def variant_group(group: Group, language: str) -> Group:
    """The parts a translation of ``group`` saves: ``texts.<lang>`` or the contact windows."""
    parts = (("contact", ("windows",)),) if group.slug == "contact" else (("texts", (language,)),)
    return dataclasses.replace(group, parts=parts)


def _translated(variant: dict[str, Any], key: str, value: Any) -> None:
    """Put ``value`` (text or FAQ rows) into ``variant``; empty: fall back to Japanese."""
    if value:
        variant[key] = value
    elif key in variant:
        variant[key] = type(value)()  # "" or []: shown in Japanese, and tenant.toml's is not merged back
    # else: never translated, stays out


class VariantForm:
    """The translation form of one group in one language: fields, submitted values, errors."""

    def __init__(self, group: Group, language: str, effective: Mapping[str, Any]):
        self.group = group
        self.language = language
        self.effective = effective
        self.errors: dict[str, list[str]] = {}
        self.raw: dict[str, Any] = {}
        texts = effective.get("texts") or {}
        variant = texts.get(language) or {}
        if group.slug == "pages":
            for key in TEXT_KEYS:
                self.raw[self.text_name(key)] = variant.get(key, "")
        elif group.slug == "faq":
            self.raw[self.text_name("faq")] = to_raw("rows", variant.get("faq"))
        else:
            for i, window in enumerate(self.windows):
                for key in TRANSLATED_FIELDS:
                    self.raw[self.window_name(i, key)] = (window.get(language) or {}).get(key, "")

    @property
    def windows(self) -> list[dict[str, Any]]:
        return list((self.effective.get("contact") or {}).get("windows") or [])

    def text_name(self, key: str) -> str:
        return f"texts.{self.language}.{key}"

    def window_name(self, index: int, key: str) -> str:
        return f"contact.windows.{index}.{self.language}.{key}"

    @property
    def saved_group(self) -> Group:
        return variant_group(self.group, self.language)

    def load(self, form: Mapping[str, str]) -> dict[str, Any] | None:
        """Read and validate a submission; return ``{section: full section}`` or None on errors."""
        if self.group.slug == "contact":
            section = "contact"
            data = copy.deepcopy(dict(self.effective["contact"]))
            for i, window in enumerate(data.get("windows") or []):
                variant = dict(window.get(self.language) or {})
                for key in TRANSLATED_FIELDS:
                    name = self.window_name(i, key)
                    self.raw[name] = _text(form.get(name), multiline=False)
                    _translated(variant, key, self.raw[name])
                if variant or self.language in window:
                    window[self.language] = variant
        else:
            section = "texts"
            data = copy.deepcopy(dict(self.effective["texts"]))
            variant = dict(data.get(self.language) or {})
            if self.group.slug == "pages":
                for key in TEXT_KEYS:
                    name = self.text_name(key)
                    self.raw[name] = _text(form.get(name), multiline=True)
                    _translated(variant, key, self.raw[name])
            else:
                name = self.text_name("faq")
                self.raw[name] = from_form(name, "rows", form, FaqSchema())
                _translated(variant, "faq", to_data("rows", self.raw[name], FaqSchema()))
            if variant or self.language in data:
                data[self.language] = variant
        try:
            return {section: section_schema(section).load(data)}
        except ValidationError as exc:
            for name, messages in flat_errors(exc.messages, section).items():
                self.errors.setdefault(name, []).extend(japanese(m) for m in messages)
            return None

    def add_error(self, name: str, message: str) -> None:
        """An error found after the schema (the service's check of the merged settings)."""
        self.errors.setdefault(name, []).append(message)

    def cell_errors(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    # --- what the template draws --------------------------------------------------------

    def text_fields(self) -> list[VariantField]:
        """「ページの文章」: one textarea per text, its Japanese text beside it."""
        texts = self.effective.get("texts") or {}
        return [VariantField(self.text_name(key), WIDGETS.get(f"texts.{key}", "textarea"), self.raw[self.text_name(key)],
                             original=texts.get(key, ""), errors=self.errors.get(self.text_name(key), []))
                for key in TEXT_KEYS]

    def faq_rows(self) -> list[dict[str, Any]]:
        """「よくある質問」: the translated rows (plus empty ones), each with the Japanese row of its place."""
        name = self.text_name("faq")
        original = (self.effective.get("texts") or {}).get("faq") or []
        rows = list(self.raw[name])
        count = max(len(original), len(rows) + EXTRA_ROWS)
        rows += [{"question": "", "answer": ""}] * (count - len(rows))
        return [{"index": i, "row": row, "original": original[i] if i < len(original) else None}
                for i, row in enumerate(rows)]

    def window_rows(self) -> list[dict[str, Any]]:
        """「お問い合わせ窓口」: each window's Japanese words and the translated inputs."""
        out = []
        for i, window in enumerate(self.windows):
            out.append({"index": i, "window": window, "fields": [
                VariantField(self.window_name(i, key), "text", self.raw[self.window_name(i, key)],
                             original=window.get(key, ""), errors=self.errors.get(self.window_name(i, key), []))
                for key in TRANSLATED_FIELDS]})
        return out

    def hint(self) -> str:
        return {"pages": EMPTY_HINT, "faq": FAQ_HINT, "contact": WINDOW_HINT}[self.group.slug]
