"""適格請求書 arithmetic: the 登録番号 check and the consumption tax contained in an amount.

A city's 登録番号 (インボイス登録番号) is ``T`` followed by its 13-digit 法人番号. The first
digit of a 法人番号 is its check digit (法人番号の指定等に関する省令 第二条):
``9 - (Σ Pn × Qn mod 9)`` over the 12-digit base, ``Pn`` the n-th digit counted from the
lowest, ``Qn`` 1 when n is odd and 2 when it is even.

The tax of a 適格請求書 is computed once per tax rate per bill and rounded once, by the
city's rule: ``floor`` (切り捨て), ``half_up`` (四捨五入) or ``ceil`` (切り上げ).
"""
from __future__ import annotations

import re

REGISTRATION_NUMBER = re.compile(r"^T[1-9][0-9]{12}$")
ROUNDINGS = {"floor": "切り捨て", "half_up": "四捨五入", "ceil": "切り上げ"}


def corporate_check_digit(base: str) -> int:
    """The check digit of a 12-digit 法人番号 base."""
    if len(base) != 12 or not (base.isdigit() and base.isascii()):
        raise ValueError("the base of a 法人番号 is 12 digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def is_registration_number(value: str) -> bool:
    """``T`` + 13 digits whose first digit is the 法人番号 check digit of the other 12."""
    return bool(REGISTRATION_NUMBER.match(value)) and int(value[1]) == corporate_check_digit(value[2:])


def included_tax(amount: int, rate: int, rounding: str) -> int:
    """The tax contained in the tax-inclusive ``amount`` at ``rate`` percent, rounded once to the yen."""
    numerator, denominator = amount * rate, 100 + rate
    if rounding == "floor":
        return numerator // denominator
    if rounding == "ceil":
        return -(-numerator // denominator)
    if rounding == "half_up":
        return (2 * numerator + denominator) // (2 * denominator)
    raise ValueError(f"unknown rounding {rounding!r}")
