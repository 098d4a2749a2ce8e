"""Banks and branches from the 全銀 codes (zengin-code), and ゆうちょ銀行's 記号・番号."""
from __future__ import annotations

import pytest

from waterportal.procedures import banks


def labels(found):
    return [b.label if isinstance(b, banks.Bank) else f"{b.code} {b.name}" for b in found]


def test_a_bank_by_code_has_its_passbook_name():
    assert banks.bank("0116").name == "北海道銀行"
    assert banks.bank("9900").name == "ゆうちょ銀行"
    assert banks.bank("0005").name == "三菱UFJ銀行"  # full-width letters made ASCII
    assert banks.bank("1001").name == "北海道信金"  # not a bank: no 銀行 added
    assert banks.bank("0000") is None and banks.bank("") is None and banks.bank(None) is None


@pytest.mark.parametrize("typed", ["北海道", "北海道銀行", "ほっかいどう", "ホッカイドウ", "ﾎｯｶｲﾄﾞｳ", "ほっかいどうぎんこう"])
def test_banks_are_found_by_name_kana_and_hiragana(typed):
    assert labels(banks.search_banks(typed))[0] == "0116 北海道銀行"


def test_a_code_prefix_lists_the_banks_it_starts():
    found = labels(banks.search_banks("011"))
    assert found[0] == "0116 北海道銀行" and all(label.startswith("011") for label in found)
    assert labels(banks.search_banks("０１１６")) == ["0116 北海道銀行"]  # full-width digits


def test_long_names_of_credit_unions_find_their_short_names():
    assert labels(banks.search_banks("北星信用金庫")) == ["1024 北星信金"]
    assert "2951 北海道労金" in labels(banks.search_banks("北海道労働金庫"))


def test_search_is_limited_and_empty_queries_find_nothing():
    assert len(banks.search_banks("信金")) == banks.SEARCH_LIMIT
    assert banks.search_banks("") == [] and banks.search_banks("   ") == [] and banks.search_banks(None) == []
    assert banks.search_banks("<script>") == []


def test_branches_by_name_kana_and_code():
    hokkaido = banks.bank("0116")
    assert labels(banks.search_branches(hokkaido, "名寄")) == ["704 名寄"]
    assert labels(banks.search_branches(hokkaido, "なよろ")) == ["704 名寄"]
    assert labels(banks.search_branches(hokkaido, "名寄支店")) == ["704 名寄"]
    assert labels(banks.search_branches(hokkaido, "704")) == ["704 名寄"]
    assert len(banks.search_branches(hokkaido, "")) == banks.SEARCH_LIMIT  # the first ones, to browse


def test_resolve_bank_by_code_name_or_pick():
    assert banks.resolve_bank("0116").found.code == "0116"
    assert banks.resolve_bank("0116 北海道銀行").found.code == "0116"  # what the suggestion list fills in
    assert banks.resolve_bank("北海道").found.code == "0116"  # the exact name wins over 北海道信金
    assert banks.resolve_bank("みずほ銀行").found.code == "0001"
    unknown = banks.resolve_bank("0000")
    assert unknown.found is None and "「0000」" in unknown.error
    nothing = banks.resolve_bank("存在しない銀行")
    assert nothing.found is None and "見つかりません" in nothing.error
    several = banks.resolve_bank("信金")
    assert several.found is None and len(several.candidates) > 1 and "一覧から" in several.error
    picked = banks.resolve_bank("信金", picked=several.candidates[1].code)
    assert picked.found == several.candidates[1]
    # A pick that is not one of the typed value's candidates is ignored (the text was changed).
    assert banks.resolve_bank("信金", picked="0116").found is None
    assert "入力してください" in banks.resolve_bank("").error


def test_resolve_branch():
    hokkaido = banks.bank("0116")
    assert banks.resolve_branch(hokkaido, "704").found.name == "名寄"
    assert banks.resolve_branch(hokkaido, "704 名寄").found.name == "名寄"
    assert "「999」" in banks.resolve_branch(hokkaido, "999").error
    several = banks.resolve_branch(hokkaido, "札幌")
    assert several.found is None and {b.code for b in several.candidates} >= {"151", "152"}
    assert banks.resolve_branch(hokkaido, "札幌", picked="152").found.name == "札幌駅北口"
    assert "入力してください" in banks.resolve_branch(hokkaido, " ").error


@pytest.mark.parametrize(("symbol", "number", "branch", "kind", "account"), [
    ("12340", "12345671", "238", "1", "1234567"),  # 通常貯金: drop the final 1
    ("１２３４０", "１２３４５６７１", "238", "1", "1234567"),  # full-width digits
    ("11130", "4561", "118", "1", "0000456"),  # a short number is padded
    ("01230", "123", "129", "2", "0000123"),  # 振替口座: 当座, ...9
])
def test_yucho_symbol_and_number_become_branch_and_account(symbol, number, branch, kind, account):
    result, errors = banks.yucho_account(symbol, number)
    assert errors == {}
    assert (result.branch_code, result.account_type, result.account_number) == (branch, kind, account)
    assert result.branch_code in banks.bank("9900").branches


@pytest.mark.parametrize(("symbol", "number", "field", "words"), [
    ("1234", "12345671", "symbol", "5桁"),
    ("22340", "12345671", "symbol", "「1」"),
    ("12340", "123456789", "number", "8桁"),
    ("12340", "", "number", "8桁"),
    ("12340", "12345670", "number", "末尾が「1」"),
    ("01230", "12345678", "number", "7桁"),
    ("15990", "12345671", "symbol", "店がありません"),  # 598 is no ゆうちょ branch
])
def test_yucho_wrong_symbol_or_number(symbol, number, field, words):
    result, errors = banks.yucho_account(symbol, number)
    assert result is None
    assert words in errors[field]


def test_account_numbers_have_seven_digits():
    assert banks.account_number("１２３-４５６７") == ("1234567", None)
    assert banks.account_number("123456")[1].startswith("口座番号は7桁")
    assert banks.account_number("12345678")[1].startswith("口座番号は7桁")
    assert banks.account_number("12a4567")[1].startswith("口座番号は7桁")
    assert banks.account_number("")[1] == "口座番号を入力してください。"
