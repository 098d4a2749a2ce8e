"""An account holder's name (口座名義) as banks print it: half-width katakana, digits,
upper-case letters, a few symbols.

The 全銀 character set of a 口座振替 record: ``0-9 A-Z ｱ-ﾝ ﾞ ﾟ``, the space and
``( ) . - / , ｢ ｣ ¥``. Small kana do not exist in it (banks print 「キョウコ」 as
``ｷﾖｳｺ``), the long-vowel mark is printed as ``-``, and 「ヰ ヱ ヮ ヵ ヶ」 as
``ｲ ｴ ﾜ ｶ ｹ``. A citizen types hiragana, full-width katakana, half-width katakana or a
mix with full-width spaces: :func:`bank_kana` turns all of these into the printed form and
names the characters it cannot take (kanji, most symbols, emoji) so the form can say which.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jaconv
from flask_babel import gettext

# 預金者名 of a 全銀 口座振替 record: 30 half-width characters (a 濁点 takes one of them).
MAX_LENGTH = 30
_ALLOWED = frozenset(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝﾞﾟ"
    " ().-/,｢｣¥"
)
# Before the half-width conversion (full-width forms): small to large, the kana that have
# no half-width form, every dash and long-vowel mark to the hyphen.
_FOLD = str.maketrans({
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ",
    "ヮ": "ワ", "ヵ": "カ", "ヶ": "ケ", "ヰ": "イ", "ヱ": "エ",
    "ー": "-", "－": "-", "‐": "-", "−": "-", "―": "-", "–": "-", "—": "-", "ｰ": "-",
    "「": "｢", "」": "｣", "、": ",", "。": ".", "・": ".", "\\": "¥", "￥": "¥", "　": " ",
})
_SPACES = re.compile(r" +")


@dataclass(frozen=True)
class BankKana:
    """What :func:`bank_kana` made of a typed name: ``value`` as printed, and the
    characters it refused (in the order typed, each once)."""

    value: str
    refused: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return bool(self.value) and not self.refused and len(self.value) <= MAX_LENGTH


def _to_full_kana(text: str) -> str:
    # Half-width kana to full-width first, so a typed ｶﾞ and a typed ガ fold the same way;
    # NFKC then turns full-width letters and digits into ASCII.
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = unicodedata.normalize("NFKC", text)
    text = jaconv.hira2kata(text)
    return text.replace("ゔ", "ヴ")


def bank_kana(value: str | None) -> BankKana:
    """The half-width form of a typed holder name and what could not be converted."""
    if not value:
        return BankKana("", ())
    text = _to_full_kana(value.translate(_FOLD)).translate(_FOLD).upper()
    text = jaconv.z2h(text, kana=True, ascii=True, digit=True).translate(_FOLD)
    text = _SPACES.sub(" ", text.replace("\t", " ").replace("\n", " ")).strip()
    refused: dict[str, None] = {}
    for ch in text:
        if ch not in _ALLOWED:
            refused[ch] = None
    return BankKana(text, tuple(refused))


def refused_message(refused: tuple[str, ...]) -> str:
    """The error the form shows: which characters a bank cannot print."""
    shown = "」「".join(_visible(ch) for ch in refused[:8])
    # gettext at the call: the citizen reads it in the page's language.
    if len(refused) > 8:
        return gettext("口座名義に使えない文字があります: 「%(chars)s」 など。カタカナ・英大文字・数字と"
                       "スペース、( ) . - / , を使って、通帳に印字されているとおりに入力してください。", chars=shown)
    return gettext("口座名義に使えない文字があります: 「%(chars)s」。カタカナ・英大文字・数字と"
                   "スペース、( ) . - / , を使って、通帳に印字されているとおりに入力してください。", chars=shown)


def _visible(ch: str) -> str:
    """A refused character as the message shows it: control characters by their code."""
    if unicodedata.category(ch).startswith("C"):
        return f"U+{ord(ch):04X}"
    return ch
