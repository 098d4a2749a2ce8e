"""tenant.toml validation: a bad file is refused with the key and the reason."""
from __future__ import annotations

import copy
import tomllib

import pytest

from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.paths import TENANTS_DIR
from waterportal.provisioning.services import read_definition
from waterportal.tenancy.schemas import validate_definition


def nayoro_raw() -> dict:
    return tomllib.loads((TENANTS_DIR / "nayoro" / "tenant.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_real_cities_validate(slug):
    definition = read_definition(TENANTS_DIR / slug)
    assert definition["slug"] == slug
    assert definition["hosts"] == [f"{slug}.localhost"]
    assert definition["timezone"] == "Asia/Tokyo"


def test_the_two_cities_differ_as_their_manuals_say():
    nayoro = read_definition(TENANTS_DIR / "nayoro")
    kanazawa = read_definition(TENANTS_DIR / "kanazawa")
    assert nayoro["login"]["mode"] == "email"
    assert kanazawa["login"]["mode"] == "login_id"
    assert nayoro["registration"]["code_ttl_minutes"] == 30
    assert nayoro["registration"]["customer_number_digits"] == 11
    assert nayoro["password_policy"] == {
        "min_length": 8, "max_length": 128, "require_upper": True, "require_lower": True,
        "require_digit": True, "require_symbol": True, "allowed_symbols": "!?#$&()-_",
    }
    assert nayoro["service_hours"] is None
    assert kanazawa["service_hours"] == {"open": "07:00", "close": "02:00"}
    assert kanazawa["billing"]["cycle"] == "bimonthly"


def mutate(path: str, value):
    raw = copy.deepcopy(nayoro_raw())
    node = raw
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    if value is KeyError:
        node.pop(last)
    else:
        node[last] = value
    return raw


@pytest.mark.parametrize(
    "path, value, key, reason",
    [
        ("login.mode", "sms", "login.mode", "次のいずれかを指定してください: email, login_id"),
        ("password_policy.min_length", 6, "password_policy.min_length", "下限 8 文字"),
        ("password_policy.max_length", 32, "password_policy.max_length", "64 文字以上"),
        ("password_policy.allowed_symbols", "!<ア", "password_policy.allowed_symbols", "使用できない記号"),
        ("registration.code_ttl_minutes", 240, "registration.code_ttl_minutes", "5以上60以下で指定してください。"),
        ("registration.customer_number_digits", "eleven", "registration.customer_number_digits", "整数で指定してください。"),
        ("service_hours", {"open": "7:00am", "close": "02:00"}, "service_hours.open", "HH:MM"),
        ("service_hours", {"open": "07:00", "close": "25:00"}, "service_hours.close", "HH:MM"),
        ("timezone", "Asia/Nowhere", "timezone", "タイムゾーン"),
        ("hosts", ["bad host"], "hosts", "ホスト名"),
        ("hosts", [], "hosts", "1個(文字)以上で指定してください。"),
        ("hosts", ["nayoro.localhost", "suido.example", "Suido.Example."], "hosts", "重複しています: Suido.Example."),
        ("slug", "Nayoro City", "slug", "英小文字"),
        ("branding.primary_color", "blue", "branding.primary_color", "形式が正しくありません。"),
        ("branding.primary_text_color", "#7f9fbf", "branding.primary_text_color", "コントラスト比"),
        ("mail.sender_address", "not-an-email", "mail.sender_address", "メールアドレスの形式で指定してください。"),
        ("calendar.closure_days", ["13-40"], "calendar.closure_days", "MM-DD"),
        ("login.colour", "red", "login.colour", "この項目は使用できません"),
        ("name", KeyError, "name", "必須の項目です。"),
    ],
)
def test_bad_values_are_refused_with_key_and_reason(path, value, key, reason):
    with pytest.raises(SettingsInvalid) as info:
        validate_definition(mutate(path, value))
    assert key in info.value.errors, info.value.errors
    assert any(reason.lower() in r.lower() for r in info.value.errors[key]), info.value.errors[key]


def test_stricter_policy_is_accepted():
    definition = validate_definition(mutate("password_policy.min_length", 12))
    assert definition["password_policy"]["min_length"] == 12


def test_unreadable_toml_is_refused(tmp_path):
    (tmp_path / "tenant.toml").write_text('slug = "x"\nname = ', encoding="utf-8")
    with pytest.raises(SettingsInvalid) as info:
        read_definition(tmp_path)
    assert "tenant.toml" in info.value.errors
    assert str(tmp_path) in str(info.value)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(SettingsInvalid) as info:
        read_definition(tmp_path)
    assert info.value.errors == {"tenant.toml": ["ファイルがありません"]}
