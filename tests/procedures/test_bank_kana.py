"""口座名義: what a citizen types becomes the half-width kana banks print, or the refused
characters are named."""
from __future__ import annotations

import pytest

from waterportal.procedures.kana import MAX_LENGTH, bank_kana, refused_message


@pytest.mark.parametrize(("typed", "printed"), [
    ("すいどう　たろう", "ｽｲﾄﾞｳ ﾀﾛｳ"),  # hiragana, full-width space
    ("スイドウ タロウ", "ｽｲﾄﾞｳ ﾀﾛｳ"),
    ("ｽｲﾄﾞｳ ﾀﾛｳ", "ｽｲﾄﾞｳ ﾀﾛｳ"),  # already as printed: unchanged
    ("ｽｲﾄﾞｳﾀﾛｳ", "ｽｲﾄﾞｳﾀﾛｳ"),
    ("きょうこ", "ｷﾖｳｺ"),  # small kana are printed large
    ("ｷｮｳｺ", "ｷﾖｳｺ"),  # also half-width small kana
    ("まっち", "ﾏﾂﾁ"),
    ("ヴァイオリン", "ｳﾞｱｲｵﾘﾝ"),
    ("ゔぁ", "ｳﾞｱ"),
    ("ヰヱヮヵヶ", "ｲｴﾜｶｹ"),
    ("コーヒー", "ｺ-ﾋ-"),  # the long-vowel mark is printed as a hyphen
    ("ｶ)ｽｲﾄﾞｳ", "ｶ)ｽｲﾄﾞｳ"),  # a company's abbreviation
    ("（カ）すいどう", "(ｶ)ｽｲﾄﾞｳ"),
    ("ｊｏｈｎ　smith", "JOHN SMITH"),  # letters upper-case, full-width to half-width
    ("  たろう   はなこ  ", "ﾀﾛｳ ﾊﾅｺ"),  # spaces trimmed and collapsed
    ("ぱぴぷぺぽ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
])
def test_typed_names_become_what_banks_print(typed, printed):
    result = bank_kana(typed)
    assert result.value == printed
    assert result.refused == ()
    assert result.ok


def test_converting_twice_changes_nothing():
    once = bank_kana("すいどう　きょうこ").value
    assert bank_kana(once).value == once


@pytest.mark.parametrize(("typed", "refused"), [
    ("水道 太郎", ("水", "道", "太", "郎")),
    ("ﾀﾛｳ@ﾊﾅｺ😀", ("@", "😀")),
    ("ﾀﾛｳ\x00", ("\x00",)),
    ("たろう！！", ("!",)),  # full-width ！ is refused once, as its half-width form
])
def test_characters_banks_cannot_print_are_named(typed, refused):
    result = bank_kana(typed)
    assert result.refused == refused
    assert not result.ok
    message = refused_message(result.refused)
    assert "口座名義に使えない文字" in message
    for ch in refused:
        assert (ch if ch != "\x00" else "U+0000") in message


def test_the_message_names_at_most_eight_characters():
    result = bank_kana("漢字だけの名前です一二三四五六")
    assert len(result.refused) > 8
    message = refused_message(result.refused)
    assert "など" in message and "六" not in message


def test_empty_and_too_long_names_are_not_ok():
    assert not bank_kana("").ok and not bank_kana(None).ok
    assert bank_kana("ア" * MAX_LENGTH).ok
    assert not bank_kana("ア" * (MAX_LENGTH + 1)).ok
    # A 濁点 takes a place of its own, as in the bank's record.
    assert not bank_kana("ガ" * (MAX_LENGTH // 2 + 1)).ok
