"""適格請求書 settings: 登録番号 with the 法人番号 check digit, one issuer per charge, the rounding rule."""
from __future__ import annotations

import tomllib

import pytest

from tests.tenancy.test_settings import mutate
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.invoice_numbers import corporate_check_digit, included_tax, is_registration_number
from waterportal.core.paths import TENANTS_DIR
from waterportal.tenancy.schemas import validate_definition

# Published 法人番号: 国税庁 (7000012050002), and the worked examples of the 省令's formula
# (7123456789012; a company's 4011001098993; 2120901007402 from its 会社法人等番号).
PUBLISHED = ("7000012050002", "4011001098993", "7123456789012", "2120901007402")


@pytest.mark.parametrize("number", PUBLISHED)
def test_check_digit_of_published_numbers(number):
    assert corporate_check_digit(number[1:]) == int(number[0])
    assert is_registration_number("T" + number)


@pytest.mark.parametrize("value", [
    "T7000012050003",  # wrong check digit
    "T8000012050002",  # check digit of another base
    "7000012050002",  # no T
    "t7000012050002", "T700001205000", "T70000120500021", "T７000012050002", "T0000000000000", "",
])
def test_bad_registration_numbers(value):
    assert not is_registration_number(value)


def test_every_single_digit_slip_is_caught_but_0_for_9():
    # The formula works mod 9, so 0 and 9 are alike (the known weakness of the 法人番号 check).
    base = PUBLISHED[0]
    for at in range(1, 13):
        for digit in "0123456789":
            if digit != base[at] and {digit, base[at]} != {"0", "9"}:
                assert not is_registration_number("T" + base[:at] + digit + base[at + 1:])


@pytest.mark.parametrize("amount, floor, half_up, ceil", [
    (5000, 454, 455, 455), (5509, 500, 501, 501), (1100, 100, 100, 100), (0, 0, 0, 0), (1, 0, 0, 1), (6, 0, 1, 1),
])
def test_included_tax_rounds_once_by_the_rule(amount, floor, half_up, ceil):
    assert [included_tax(amount, 10, rule) for rule in ("floor", "half_up", "ceil")] == [floor, half_up, ceil]


def test_included_tax_at_the_reduced_rate():
    assert included_tax(1080, 8, "floor") == 80 and included_tax(1000, 8, "half_up") == 74


def issuers(*numbers, charges=("water", "sewer")):
    return [{"charge": c, "name": "名寄市", "registration_number": n} for c, n in zip(charges, numbers, strict=True)]


@pytest.mark.parametrize("value, key, reason", [
    (issuers("T7000012050003", "T7000012050002"), "invoice.issuers.0.registration_number", "検査用数字"),
    (issuers("T7000012050002", "7000012050002"), "invoice.issuers.1.registration_number", "T と13桁"),
    (issuers("T7000012050002", "T7000012050002", charges=("water", "water")), "invoice.issuers", "重複"),
    (issuers("T7000012050002", charges=("gas",)), "invoice.issuers.0.charge", "water, sewer"),
])
def test_bad_issuers_are_refused_naming_the_key(value, key, reason):
    with pytest.raises(SettingsInvalid) as info:
        validate_definition(mutate("invoice.issuers", value))
    assert key in info.value.errors, info.value.errors
    assert any(reason in message for message in info.value.errors[key]), info.value.errors[key]


def test_bad_rounding_is_refused():
    with pytest.raises(SettingsInvalid) as info:
        validate_definition(mutate("invoice.rounding", "bankers"))
    assert "invoice.rounding" in info.value.errors


def test_both_demo_cities_name_valid_issuers():
    for slug in ("nayoro", "kanazawa"):
        definition = validate_definition(tomllib.loads((TENANTS_DIR / slug / "tenant.toml").read_text("utf-8")))
        kinds = {issuer["charge"] for issuer in definition["invoice"]["issuers"]}
        assert kinds == {"water", "sewer"}
