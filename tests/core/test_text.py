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


# Characters whose NFKC form carries a space or a combining mark (spacing diacritics,
# the separate kana voicing marks ゛ ゜, full-width and half-width forms), after a letter,
# a digit, a kana and a hyphen: where a second pass could still change the result.
_TRICKY = [chr(i) for r in ((0xA0, 0x300), (0x2000, 0x2070), (0x3000, 0x3100), (0xFF00, 0xFFF0)) for i in range(*r)]


def _normalisers():
    from waterportal.accounts.registration.forms import normalise_login_id
    from waterportal.accounts.secret import normalise_answer

    return [digits_only, katakana_name, squash_spaces, normalise_email, normalise_login_id, normalise_answer]


@pytest.mark.parametrize("normalise", _normalisers(), ids=lambda f: f.__name__)
def test_normalisation_is_idempotent(normalise):
    """What is stored (normalised) normalises to itself, so a value typed again, or
    normalised twice on its way, still matches."""
    samples = ["スイト゛ウ タロウ", "ｽｲﾄ ﾞｳ", "すいと゛う", "０１６５－４３", "  Taro＠Example.JP ", "a\u00b4b"]
    samples += [prefix + ch for ch in _TRICKY for prefix in ("a", "1-", "カ", " ")]
    changed = [(s, normalise(s)) for s in samples if normalise(normalise(s)) != normalise(s)]
    assert not changed, [tuple(map(ascii, pair)) for pair in changed[:5]]


def test_a_separate_voicing_mark_joins_its_kana():
    """「スイト゛ウ」 (゛ typed on its own, as some input methods and old half-width data do)
    is the same name as 「スイドウ」."""
    assert katakana_name("スイト゛ウ") == katakana_name("ｽｲﾄ ﾞｳ") == "スイドウ"
    assert is_katakana(katakana_name("すいと゛う"))
