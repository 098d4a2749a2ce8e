"""Citizen languages: 日本語, English and やさしい日本語 (issue 13 §10), on Flask-Babel.

Japanese is the source language: the templates hold the manuals' exact Japanese wording as
message ids, so a Japanese page needs no catalogue and renders exactly as before. English
(``en``) and やさしい日本語 (``easy``) come from the catalogues in
``waterportal/translations/<code>/LC_MESSAGES/messages.po`` (compiled ``.mo`` files are
committed next to them; ``make translations`` extracts, updates and compiles, and
``tests/core/test_i18n_catalogues.py`` fails when a ``.mo`` is stale or a template string
of a translated page is missing).

やさしい日本語 is not a CLDR locale: our language codes (``ja``, ``en``, ``easy``) pick the
catalogue, and :data:`FORMAT_LOCALE` maps each to the Babel locale used for dates and
numbers (easy Japanese writes them as Japanese does).

Which language a request gets (:func:`current_language`): a forced language
(:func:`force_language`, mail), else the ``lang`` cookie if the city offers it, else the best
of ``Accept-Language`` among the city's languages, else Japanese. An unknown cookie value
is ignored (Japanese, or the Accept-Language guess). Which languages a city offers comes
from the hook :func:`install_i18n` receives (the city's ``[languages] offered``), so this
module stays city-agnostic.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path

from babel import support
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, force_locale, gettext

from waterportal.core.wareki import japanese_month, wareki, wareki_month

LANGUAGES: dict[str, str] = {"ja": "日本語", "en": "English", "easy": "やさしい日本語"}
DEFAULT_LANGUAGE = "ja"
# The languages a city's own text (a notice, an alert) may be written in besides Japanese.
TRANSLATED_LANGUAGES = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
COOKIE = "lang"
COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookies at 400 days
# Babel locale for dates and numbers; the <html lang> attribute.
FORMAT_LOCALE = {"ja": "ja", "en": "en", "easy": "ja"}
HTML_LANG = {"ja": "ja", "en": "en", "easy": "ja"}
# The switch's label is the same in every language: whoever cannot read the page's language
# must still find it.
SWITCH_LABEL = "Language / 言語"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

_forced: ContextVar[str | None] = ContextVar("forced_language", default=None)


def valid_language(code: str | None) -> str | None:
    """``code`` if it is one of our languages, else None (an unknown cookie value)."""
    return code if code in LANGUAGES else None


def choose_language(cookie: str | None, accept: Sequence[tuple[str, float]], offered: Sequence[str]) -> str:
    """The language for a request: the cookie if offered, else the best Accept-Language
    match among ``offered`` (``en-GB`` matches ``en``), else Japanese."""
    if cookie in offered:
        return cookie  # type: ignore[return-value]
    for value, quality in sorted(accept, key=lambda item: -item[1]):
        if quality <= 0:
            continue
        primary = value.lower().split("-")[0].split("_")[0]
        # やさしい日本語 is never guessed: a browser asking for Japanese gets Japanese.
        if primary in offered and primary != "easy":
            return primary
    return DEFAULT_LANGUAGE


def _offered() -> Sequence[str]:
    hook = current_app.extensions.get("waterportal_languages")
    return hook() if hook else (DEFAULT_LANGUAGE,)


def in_order(offered: Iterable[str]) -> list[str]:
    """``offered`` (a city's ``[languages] offered``) in :data:`LANGUAGES` order, Japanese always."""
    chosen = set(offered) | {DEFAULT_LANGUAGE}
    return [code for code in LANGUAGES if code in chosen]


def offered_languages() -> list[str]:
    """The current city's languages, in :data:`LANGUAGES` order (Japanese always)."""
    return in_order(_offered())


def current_language() -> str:
    """The language of the work at hand (see the module's docstring)."""
    forced = _forced.get()
    if forced is not None:
        return forced
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = g.get("_language")
    if chosen is None and request.blueprint in current_app.extensions.get("waterportal_japanese_only", ()):
        chosen = g._language = DEFAULT_LANGUAGE  # the consoles are Japanese whatever the cookie says
    if chosen is None:
        chosen = choose_language(request.cookies.get(COOKIE), list(request.accept_languages), offered_languages())
        g._language = chosen
    return chosen


@contextmanager
def force_language(code: str | None) -> Iterator[str]:
    """Render in ``code`` (a member's language for a mail); an unknown code means Japanese."""
    code = valid_language(code) or DEFAULT_LANGUAGE
    token = _forced.set(code)
    try:
        with force_locale(FORMAT_LOCALE[code]):
            yield code
    finally:
        _forced.reset(token)


def _load(code: str) -> support.NullTranslations:
    path = TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.mo"
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return support.NullTranslations()
    with path.open("rb") as handle:
        return support.Translations(handle, domain="messages")


Wording = tuple[tuple[str, str], ...]


def _no_wording() -> Wording:
    return ()


class WordedTranslations:
    """A catalogue whose every message has the current city's own words written in (the
    ``wording`` hook of :func:`install_i18n`: ``(("お客さま番号", "お客様番号"),)``): the
    manuals' wording differs per city inside whole catalogue sentences, and changing it here
    changes exactly the portal's texts (in templates and in Python, on pages and in mail),
    never what a citizen typed. Each message is rewritten once per process."""

    def __init__(self, catalogue: support.NullTranslations, wording: Wording) -> None:
        self._catalogue = catalogue
        self._wording = wording
        self._done: dict[str, str] = {}

    def _worded(self, message: str) -> str:
        done = self._done.get(message)
        if done is None:
            done = message
            for other, word in self._wording:
                done = done.replace(other, word)
            self._done[message] = done
        return done

    def ugettext(self, message: str) -> str:
        return self._worded(self._catalogue.ugettext(message))

    def ungettext(self, singular: str, plural: str, num: int) -> str:
        return self._worded(self._catalogue.ungettext(singular, plural, num))

    def upgettext(self, context: str, message: str) -> str:
        return self._worded(self._catalogue.upgettext(context, message))

    def unpgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        return self._worded(self._catalogue.unpgettext(context, singular, plural, num))

    gettext, ngettext, pgettext, npgettext = ugettext, ungettext, upgettext, unpgettext


class LanguageDomain(Domain):
    """Flask-Babel's domain keyed by our language code instead of the Babel locale (easy
    Japanese and Japanese share the locale ``ja`` but not the catalogue), with the current
    city's wording written in (:class:`WordedTranslations`). Catalogues are read once per
    process."""

    def __init__(self) -> None:
        super().__init__(domain="messages")
        self._catalogues: dict[tuple[str, Wording], support.NullTranslations | WordedTranslations] = {}

    def get_translations(self) -> support.NullTranslations | WordedTranslations:  # type: ignore[override]
        code = current_language()
        wording = current_app.extensions.get("waterportal_wording", _no_wording)() if has_app_context() else ()
        catalogue = self._catalogues.get((code, wording))
        if catalogue is None:
            plain = self._catalogues.get((code, ()))
            if plain is None:
                plain = self._catalogues[(code, ())] = _load(code)
            catalogue = self._catalogues[(code, wording)] = WordedTranslations(plain, wording) if wording else plain
        return catalogue


class LanguageBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return LanguageDomain()


def _locale_selector() -> str:
    return FORMAT_LOCALE[current_language()]


def _wareki_page() -> bool:
    """Whether this page writes 和暦: in Japanese, where the city's ``[invoice] date_style`` is
    "wareki" (the hook :func:`install_i18n` receives). English is always Western, and so is
    やさしい日本語 (readers new to Japan know the Western year, not the era)."""
    if current_language() != "ja" or not has_app_context():
        return False
    return current_app.extensions.get("waterportal_date_style", _seireki)() == "wareki"


def _seireki() -> str:
    return "seireki"


def format_ymd(value: dt.date | None) -> str:
    """A date: 2024/09/30 (令和6年9月30日 where the city writes 和暦) in Japanese, 2024/09/30 in
    やさしい日本語, Sep 30, 2024 in English."""
    if value is None:
        return ""
    if current_language() == "en":
        return format_date(value, "medium", locale="en")
    if _wareki_page():
        return wareki(value)
    return value.strftime("%Y/%m/%d")


def format_day(value: dt.date) -> str:
    """A day with its weekday: 2026年12月24日(木) in Japanese and やさしい日本語, Thu, Dec 24, 2026."""
    if current_language() == "en":
        return format_date(value, "EEE, MMM d, y", locale="en")
    return format_date(value, "y年M月d日(E)", locale="ja")


def format_month(billing_month: str) -> str:
    """``"2024-09"``: 2024年09月 (the manual's style), 2024年9月 in easy Japanese, September 2024."""
    year, month = billing_month.split("-")
    language = current_language()
    if language == "en":
        return format_date(dt.date(int(year), int(month), 1), "MMMM y", locale="en")
    if _wareki_page():
        return wareki_month(int(year), int(month))
    if language == "easy":
        return f"{year}年{int(month)}月"
    return f"{year}年{month}月"


def japanese_month_text(billing_month: str) -> str:
    """2026年10月, or 令和8年10月 on a Japanese page of a city that writes 和暦: for Japanese
    text made in Python (chart texts, option labels), which stays Japanese in every language."""
    return japanese_month(billing_month, "wareki" if _wareki_page() else "seireki")


def format_number(value: int | float | None) -> str:
    """1,234 (grouping by the language's rules)."""
    return "" if value is None else format_decimal(value, locale=FORMAT_LOCALE[current_language()])


def shown_word(word: object) -> str:
    """A word stored in Japanese (a procedure's choice or label, a bill's payment method) in the
    page's language: its catalogue entry, else as stored (a city's own word). The ``shown``
    filter; unlike ``_()`` in a template, a ``%`` in the word is no format."""
    return gettext(str(word)) if word else ""


def install_i18n(app: Flask, offered: Callable[[], Sequence[str]], japanese_only: Sequence[str] = (),
                 date_style: Callable[[], str] = _seireki, wording: Callable[[], Wording] = _no_wording) -> None:
    """Flask-Babel with our domain, ``offered()`` giving the current city's languages,
    ``date_style()`` the current city's "seireki" or "wareki" (``ymd`` and ``month_text``),
    ``wording()`` the current city's ``(other word, its word)`` pairs written into every
    message (:class:`WordedTranslations`), the
    blueprints that stay Japanese whatever the cookie (the consoles), and the
    template globals and filters every citizen page and mail uses (``language``, ``languages``,
    ``html_lang``, ``ymd``, ``day_text``, ``month_text``, ``number``)."""
    LanguageBabel(app, locale_selector=_locale_selector)
    app.extensions["waterportal_languages"] = offered
    app.extensions["waterportal_japanese_only"] = frozenset(japanese_only)
    app.extensions["waterportal_date_style"] = date_style
    app.extensions["waterportal_wording"] = wording
    app.jinja_env.filters.update(ymd=format_ymd, day_text=format_day, month_text=format_month, number=format_number,
                                 shown=shown_word)

    @app.context_processor
    def language_globals() -> dict:
        language = current_language()
        return {"language": language, "html_lang": HTML_LANG[language], "language_names": LANGUAGES,
                "languages": offered_languages, "language_switch_label": SWITCH_LABEL}
