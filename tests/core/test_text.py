"""Japanese input normalisation."""
from __future__ import annotations

import pytest

from waterportal.core.text import digits_only, is_katakana, katakana_name, normalise_email, squash_spaces


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("０１６５４－３－２１１１", "0165432111"),
        ("01654-3-2111", "0165432111"),
        ("０００１２３４５６７８", "00012345678"),
        ("000 1234 5678", "00012345678"),
        ("0001‐2345−678ー", "00012345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_digits_only(raw, expected):
    assert digits_only(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["スイドウタロウ", "すいどうたろう", "ｽｲﾄﾞｳﾀﾛｳ", "スイドウ　タロウ", " すいどう たろう ", "ｽｲﾄﾞｳ ﾀﾛｳ"],
)
def test_katakana_name(raw):
    assert katakana_name(raw) == "スイドウタロウ"
    assert is_katakana(katakana_name(raw))


def test_long_vowel_and_small_kana_survive():
    assert katakana_name("ゆーじ") == "ユージ"
    assert katakana_name("ｷｮｳｺ") == "キョウコ"
    assert not is_katakana("水道")


def test_email_and_spaces():
    assert normalise_email("  Taro＠Example.JP ") == "taro@example.jp"
    assert squash_spaces("  名寄　 太郎 ") == "名寄 太郎"
