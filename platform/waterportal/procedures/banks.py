"""Banks and branches by their 全銀 codes (the ``zengin-code`` package), searched by name,
kana or code, and ゆうちょ銀行's 記号・番号 turned into the branch and account a bank uses.

The package loads every bank and branch (about 1,150 banks, 29,000 branches, 0.2 s and
20 MB) when it is first imported; :func:`_directory` does that on the first search, not
when the app starts, and keeps the normalised names once per process.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import jaconv
from flask_babel import gettext

from waterportal.core.text import digits_only

YUCHO = "9900"
SEARCH_LIMIT = 20
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄"}
_DIGITS = re.compile(r"\s*([0-9]+)")
# Long names a citizen types for the short ones the directory holds.
_SHORTEN = (
    ("信用金庫", "信金"), ("シンヨウキンコ", "シンキン"), ("信用組合", "信組"), ("シンヨウクミアイ", "シンクミ"),
    ("労働金庫", "労金"), ("ロウドウキンコ", "ロウキン"), ("農業協同組合", "農協"), ("ノウギヨウキヨウドウクミアイ", "ノウキヨウ"),
    ("漁業協同組合", "漁協"),
)
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶー", "アイウエオツヤユヨワカケ－")


@dataclass(frozen=True)
class Branch:
    code: str
    name: str
    kana: str


@dataclass(frozen=True)
class Bank:
    code: str
    name: str
    kana: str
    branches: dict[str, Branch] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def _norm(text: str) -> str:
    """What a name and a query are compared as: NFKC, katakana with large letters, no
    spaces, no 銀行/ギンコウ, the long names of 信金・労金・農協 shortened."""
    text = unicodedata.normalize("NFKC", jaconv.h2z(text, kana=True, ascii=False, digit=False))
    text = jaconv.hira2kata(text).upper()
    text = re.sub(r"\s+", "", text).translate(_SMALL)
    text = text.replace("-", "－").replace("ｰ", "－")
    for long, short in _SHORTEN:
        text = text.replace(long, short)
    for suffix in ("銀行", "ギンコウ", "支店", "シテン", "出張所"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return text


def _display(code: str, name: str) -> str:
    """The name a passbook shows: full-width letters made ASCII, 銀行 added to banks."""
    name = unicodedata.normalize("NFKC", name)
    if code < "1000" or code == YUCHO:
        name += "銀行"
    return name


@functools.cache
def _directory() -> tuple[dict[str, Bank], list[tuple[str, str, Bank]]]:
    from zengin_code import Bank as ZenginBank  # noqa: PLC0415 - 20 MB, loaded on first use

    banks: dict[str, Bank] = {}
    index: list[tuple[str, str, Bank]] = []
    for code, raw in sorted(ZenginBank.all.items()):
        branches = {
            b.code: Branch(b.code, unicodedata.normalize("NFKC", b.name), b.kana) for b in raw.branches.values()
        }
        bank = Bank(code, _display(code, raw.name), raw.kana, branches)
        banks[code] = bank
        index.append((_norm(raw.name), _norm(raw.kana), bank))
    return banks, index


def bank(code: str | None) -> Bank | None:
    """The bank of a 4-digit code, or None."""
    return _directory()[0].get(code or "")


def leading_code(text: str | None, width: int) -> str | None:
    """The code a typed value starts with (``"0116 北海道銀行"`` -> ``"0116"``) when it is
    exactly ``width`` digits (full-width digits too), else None."""
    match = _DIGITS.match(unicodedata.normalize("NFKC", text or ""))
    return match.group(1) if match and len(match.group(1)) == width else None


def _search(raw: str, by_code: dict, index, limit: int) -> list:
    """A typed code's prefix in ``by_code``, or a name/kana in ``index`` ((name, kana, item)
    normalised): exact matches first, then names starting with it, then names containing it."""
    if raw.isdigit() and raw.isascii():
        return [item for code, item in by_code.items() if code.startswith(raw)][:limit]
    query = _norm(raw)
    if not query:
        return []
    exact, starts, contains = [], [], []
    for name, kana, item in index:
        if query in (name, kana):
            exact.append(item)
        elif name.startswith(query) or kana.startswith(query):
            starts.append(item)
        elif query in name or query in kana:
            contains.append(item)
    return (exact + starts + contains)[:limit]


def search_banks(text: str | None, limit: int = SEARCH_LIMIT) -> list[Bank]:
    """Banks for a typed code (its prefix) or name/kana/hiragana (prefix first, then any part)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return []
    banks, index = _directory()
    return _search(raw, banks, index, limit)


@functools.lru_cache(maxsize=64)
def _branch_index(bank_code: str) -> list[tuple[str, str, Branch]]:
    """A bank's branches with their normalised name and kana (kept for the banks searched most)."""
    return [(_norm(b.name), _norm(b.kana), b) for b in _directory()[0][bank_code].branches.values()]


def search_branches(bank_: Bank, text: str | None, limit: int = SEARCH_LIMIT) -> list[Branch]:
    """Branches of a bank for a typed 3-digit code (its prefix) or name/kana; without
    anything typed, the first ones (to browse)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return list(bank_.branches.values())[:limit]
    return _search(raw, bank_.branches, _branch_index(bank_.code), limit)


@dataclass(frozen=True)
class Resolved:
    """A typed bank or branch: the one it names, or the candidates to choose from, or an error."""

    found: Bank | Branch | None
    candidates: tuple = ()
    error: str | None = None


def resolve_bank(text: str | None, picked: str | None = None) -> Resolved:
    """The bank a typed value names: a leading 4-digit code, a name matching exactly one
    bank, or one of several candidates the citizen picked (``picked``, a code)."""
    if not (text or "").strip():
        return Resolved(None, error=gettext("金融機関名または金融機関コード（4桁）を入力してください。"))
    code = leading_code(text, 4)
    if code:
        found = bank(code)
        if found is None:
            return Resolved(None, error=gettext("金融機関コード「%(code)s」の金融機関は見つかりません。", code=code))
        return Resolved(found)
    missing = gettext("「%(text)s」に当たる金融機関が見つかりません。名前の一部か4桁のコードで探してください。",
                      text=text.strip()[:40])
    return _choose(text, search_banks(text), picked, bank, missing, gettext("候補がいくつかあります。一覧から金融機関を選んでください。"))


def resolve_branch(bank_: Bank, text: str | None, picked: str | None = None) -> Resolved:
    """The branch of ``bank_`` a typed value names (3-digit code or name), as :func:`resolve_bank`."""
    if not (text or "").strip():
        return Resolved(None, error=gettext("支店名または支店コード（3桁）を入力してください。"))
    code = leading_code(text, 3)
    if code:
        found = bank_.branches.get(code)
        if found is None:
            return Resolved(None, error=gettext("%(bank)sに支店コード「%(code)s」の支店は見つかりません。", bank=bank_.name, code=code))
        return Resolved(found)
    missing = gettext("%(bank)sに「%(text)s」に当たる支店が見つかりません。", bank=bank_.name, text=text.strip()[:40])
    return _choose(text, search_branches(bank_, text), picked, bank_.branches.get, missing,
                   gettext("候補がいくつかあります。一覧から支店を選んでください。"))


def _choose(text: str, candidates: list, picked: str | None, by_code, missing: str, several: str) -> Resolved:
    """Among the candidates of a typed name: the one picked from the list, the one whose
    name or kana is exactly what was typed, the only one; else the list (or ``missing``)."""
    if picked and any(c.code == picked for c in candidates):
        return Resolved(by_code(picked))
    query = _norm(unicodedata.normalize("NFKC", text))
    exact = [c for c in candidates if query in (_norm(c.name), _norm(c.kana))]
    if len(exact) == 1:
        return Resolved(exact[0])
    if len(candidates) == 1:
        return Resolved(candidates[0])
    if not candidates:
        return Resolved(None, error=missing)
    return Resolved(None, tuple(candidates), several)


@dataclass(frozen=True)
class YuchoAccount:
    """ゆうちょ銀行's 記号・番号 and the branch code, account type and 7-digit number other
    banks (and the 全銀 口座振替 record) use for the same account."""

    symbol: str
    number: str
    branch_code: str
    account_type: str
    account_number: str


def yucho_account(symbol: str | None, number: str | None) -> tuple[YuchoAccount | None, dict[str, str]]:
    """Check and convert 記号 (5 digits) and 番号 (up to 8 digits), as ゆうちょ銀行 does:

    - 通常貯金 (記号 starts with 1): branch ``<2nd><3rd>8``, 普通, the number without its
      last digit (always 1), zero-padded to 7 digits;
    - 振替口座 (記号 starts with 0): branch ``<2nd><3rd>9``, 当座, the number zero-padded to 7.

    Returns the account, or None and the errors by field (``symbol``, ``number``)."""
    symbol, number = digits_only(symbol), digits_only(number)
    errors: dict[str, str] = {}
    if not re.fullmatch(r"[0-9]{5}", symbol):
        errors["symbol"] = gettext("記号は5桁の数字で入力してください（通帳の表紙に記載されています）。")
    elif symbol[0] not in "01":
        errors["symbol"] = gettext("記号は「1」（通常貯金）または「0」（振替口座）で始まる5桁です。")
    if not re.fullmatch(r"[0-9]{1,8}", number):
        errors["number"] = gettext("番号は8桁までの数字で入力してください。")
    if errors:
        return None, errors
    if symbol[0] == "1":
        if len(number) < 2 or not number.endswith("1"):
            return None, {"number": gettext("通常貯金の番号は末尾が「1」の8桁までの数字です。通帳のとおりに入力してください。")}
        branch, kind, account = symbol[1:3] + "8", "1", number[:-1].zfill(7)
    else:
        if len(number) > 7:
            return None, {"number": gettext("振替口座の番号は7桁までの数字です。")}
        branch, kind, account = symbol[1:3] + "9", "2", number.zfill(7)
    yucho = bank(YUCHO)
    if yucho is not None and branch not in yucho.branches:
        return None, {"symbol": gettext("記号「%(symbol)s」に当たるゆうちょ銀行の店がありません。記号を確かめてください。", symbol=symbol)}
    return YuchoAccount(symbol, number.zfill(8) if symbol[0] == "1" else number, branch, kind, account), {}


def account_number(value: str | None) -> tuple[str, str | None]:
    """A 7-digit account number from what was typed (full-width digits, hyphens, spaces
    allowed), or the error."""
    digits = digits_only(value)
    if not digits:
        return "", gettext("口座番号を入力してください。")
    if not re.fullmatch(r"[0-9]{7}", digits):
        return "", gettext("口座番号は7桁の数字で入力してください（7桁に満たない場合は先頭に0を付けてください）。")
    return digits, None
