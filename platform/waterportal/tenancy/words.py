"""A city's own words in what citizens read.

- **The customer number's name**: 名寄市's manual writes お客様番号, 金沢市's お客さま番号. The
  templates and forms use either; :func:`customer_number_wording` gives the pairs the message
  catalogues write in (core/i18n.py ``WordedTranslations``), so every portal text on a page,
  in a mail or in a form's message says the city's one (``[registration]
  customer_number_label``) and a city never shows both, while what a citizen typed is
  shown as typed.
- **Placeholders in city texts** (``[texts]``, FAQ): ``{service_hours}``, ``{code_ttl_minutes}``...
  are filled from the city's effective settings (:func:`fill`), so a text that repeats a
  setting follows it when staff change the setting in the console. The settings schema
  refuses an unknown placeholder, naming it (:func:`unknown_placeholders`): a citizen never
  sees a raw ``{...}``.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from waterportal.core.i18n import DEFAULT_LANGUAGE, current_language

CUSTOMER_NUMBER_WORDS = ("お客様番号", "お客さま番号")
DEFAULT_CUSTOMER_NUMBER_LABEL = CUSTOMER_NUMBER_WORDS[0]


def customer_number_label(settings: Mapping[str, Any]) -> str:
    """The city's name for the customer number (お客様番号 or お客さま番号), for what is drawn
    outside the catalogues (PDFs, the CSV's header)."""
    return settings.get("registration", {}).get("customer_number_label", DEFAULT_CUSTOMER_NUMBER_LABEL)


def customer_number_wording(settings: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """``((other spelling, the city's), ...)``: how the customer number's name is rewritten in
    the portal's texts for a city (``[registration] customer_number_label``). Asked at every
    message a page translates, so the pairs are made once per word."""
    return _wording(customer_number_label(settings))


@functools.cache
def _wording(word: str) -> tuple[tuple[str, str], ...]:
    return tuple((other, word) for other in CUSTOMER_NUMBER_WORDS if other != word)


def clock_text(hhmm: str) -> str:
    """「07:00」 -> 「AM7:00」, 「14:30」 -> 「PM2:30」 (the manual's way of writing the hours)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return f"{'AM' if hour < 12 else 'PM'}{hour % 12 if hour != 12 else 12}:{minute:02d}"


def service_hours_text(settings: Mapping[str, Any]) -> str:
    """「AM7:00〜AM2:00」, or 「24時間」 for a city without service hours."""
    hours = settings.get("service_hours")
    if not hours:
        return "24時間"
    return f"{clock_text(hours['open'])}〜{clock_text(hours['close'])}"


def english_service_hours_text(settings: Mapping[str, Any]) -> str:
    """"7:00 AM to 2:00 AM", or "24 hours" without service hours: for a city's English text."""
    hours = settings.get("service_hours")
    if not hours:
        return "24 hours"

    def clock(hhmm: str) -> str:
        hour, minute = (int(part) for part in hhmm.split(":"))
        return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"

    return f"{clock(hours['open'])} to {clock(hours['close'])}"


# Each placeholder and how its value is read from the effective settings.
PLACEHOLDERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "service_hours": service_hours_text,
    "code_ttl_minutes": lambda s: str(s["registration"]["code_ttl_minutes"]),
    "data_visible_after_business_days": lambda s: str(s["registration"]["data_visible_after_business_days"]),
    "customer_number_digits": lambda s: str(s["registration"]["customer_number_digits"]),
    "customer_number_label": customer_number_label,
    "sender_address": lambda s: s["mail"]["sender_address"],
    "inquiry_email": lambda s: s["contact"]["inquiry_email"],
}
# The values a text the city wrote in English reads instead (its Japanese text keeps the above).
ENGLISH_PLACEHOLDERS: dict[str, Callable[[Mapping[str, Any]], str]] = {"service_hours": english_service_hours_text}
PLACEHOLDER = re.compile(r"\{([^{}\s]{1,60})\}")


def unknown_placeholders(text: str) -> list[str]:
    """The ``{names}`` in ``text`` that are no placeholder, in order of appearance."""
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS))


def fill(text: str, settings: Mapping[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """``text`` (written in ``language``) with its placeholders replaced by the values of
    ``settings`` (anything else in braces is left as it is; the schema refuses it before it
    reaches a page). An English text says its hours the English way (7:00 AM to 2:00 AM)."""
    if "{" not in text:
        return text
    found = {**PLACEHOLDERS, **ENGLISH_PLACEHOLDERS} if language == "en" else PLACEHOLDERS
    return PLACEHOLDER.sub(lambda m: found[m.group(1)](settings) if m.group(1) in found else m.group(0), text)


def filled_texts(settings: Mapping[str, Any], language: str | None = None) -> dict[str, Any]:
    """The city's ``[texts]`` with every placeholder filled (the FAQ's questions and answers too),
    in ``language`` (default: the current one, core/i18n.py): a text the city wrote in that
    language (``[texts.en]``, ``[texts.easy]``) replaces the Japanese one; the keys shown in
    Japanese instead are listed under ``"untranslated"`` so the page can say so."""
    texts = settings.get("texts", {})
    language = language or current_language()
    variant = (texts.get(language) or {}) if language != DEFAULT_LANGUAGE else {}
    filled: dict[str, Any] = {}
    untranslated: set[str] = set()
    for key, value in texts.items():
        if isinstance(value, str):
            chosen = variant.get(key) or value
            filled[key] = fill(chosen, settings, language if variant.get(key) else DEFAULT_LANGUAGE)
            if language != DEFAULT_LANGUAGE and value and not variant.get(key):
                untranslated.add(key)
    faq = variant.get("faq") or texts.get("faq", [])
    faq_language = language if variant.get("faq") else DEFAULT_LANGUAGE
    filled["faq"] = [{key: fill(value, settings, faq_language) for key, value in item.items()} for item in faq]
    if language != DEFAULT_LANGUAGE and texts.get("faq") and not variant.get("faq"):
        untranslated.add("faq")
    filled["untranslated"] = untranslated
    return filled
