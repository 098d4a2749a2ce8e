"""tenancy/words.py: placeholders in city texts, and one name for the customer number per city."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from waterportal.tenancy.schemas import RegistrationSchema, TextsSchema
from waterportal.tenancy.words import (
    PLACEHOLDERS,
    clock_text,
    customer_number_wording,
    fill,
    filled_texts,
    unknown_placeholders,
)

SETTINGS = {
    "service_hours": {"open": "07:00", "close": "02:00"},
    "registration": {"code_ttl_minutes": 30, "data_visible_after_business_days": 2, "customer_number_digits": 10},
    "mail": {"sender_address": "noreply@city.example.jp"},
    "contact": {"inquiry_email": "portal@city.example.jp"},
    "texts": {"about": "毎日{service_hours}", "faq": [{"question": "{code_ttl_minutes}分?", "answer": "{x}"}]},
}


@pytest.mark.parametrize("hhmm, text", [("07:00", "AM7:00"), ("02:00", "AM2:00"), ("00:00", "AM0:00"),
                                        ("12:00", "PM12:00"), ("14:30", "PM2:30"), ("23:59", "PM11:59")])
def test_clock_text_writes_the_hours_as_the_manual_does(hhmm, text):
    assert clock_text(hhmm) == text


def test_every_placeholder_is_filled_from_the_settings():
    text = "".join(f"[{{{name}}}]" for name in PLACEHOLDERS)
    assert fill(text, SETTINGS) == ("[AM7:00〜AM2:00][30][2][10][お客様番号][noreply@city.example.jp]"
                                    "[portal@city.example.jp]")
    assert fill("毎日{service_hours}", {**SETTINGS, "service_hours": None}) == "毎日24時間"
    assert fill("{x} と {} と {{", SETTINGS) == "{x} と {} と {{"  # not placeholders: left alone
    texts = filled_texts(SETTINGS)
    assert texts["about"] == "毎日AM7:00〜AM2:00" and texts["faq"] == [{"question": "30分?", "answer": "{x}"}]


def test_a_text_written_in_english_says_the_hours_the_english_way():
    assert fill("Open {service_hours}.", SETTINGS, "en") == "Open 7:00 AM to 2:00 AM."
    assert fill("{service_hours}", {**SETTINGS, "service_hours": {"open": "12:30", "close": "00:00"}}, "en") == (
        "12:30 PM to 12:00 AM")
    assert fill("{service_hours}", {**SETTINGS, "service_hours": None}, "en") == "24 hours"
    assert fill("毎日{service_hours}", SETTINGS, "easy") == "毎日AM7:00〜AM2:00"
    # An English page showing the Japanese text (no translation) keeps the Japanese hours.
    english = filled_texts(SETTINGS, "en")
    assert english["about"] == "毎日AM7:00〜AM2:00" and "about" in english["untranslated"]
    translated = filled_texts({**SETTINGS, "texts": {**SETTINGS["texts"], "en": {"about": "Open {service_hours}"}}}, "en")
    assert translated["about"] == "Open 7:00 AM to 2:00 AM" and "about" not in translated["untranslated"]


def test_the_schema_refuses_a_mistyped_placeholder_naming_the_key():
    assert unknown_placeholders("{service_hour}と{service_hours}と{sender}") == ["service_hour", "sender"]
    with pytest.raises(ValidationError) as raised:
        TextsSchema().load({"login_notice": "毎日{service_hour}です", "about": "{service_hours}"})
    assert list(raised.value.messages) == ["login_notice"]
    assert "{service_hour} は使えない差し込み項目です" in raised.value.messages["login_notice"][0]
    with pytest.raises(ValidationError) as raised:
        TextsSchema().load({"faq": [{"question": "q", "answer": "{code_ttl}"}]})
    assert "{code_ttl}" in raised.value.messages["faq"][0]["answer"][0]


def test_the_customer_number_has_one_name_per_city():
    assert customer_number_wording({"registration": {"customer_number_label": "お客さま番号"}}) == (
        ("お客様番号", "お客さま番号"),)
    assert customer_number_wording({}) == (("お客さま番号", "お客様番号"),)
    with pytest.raises(ValidationError):
        RegistrationSchema().load({"customer_number_label": "水栓番号"})


def test_the_demo_cities_use_placeholders(nayoro, kanazawa):
    for tenant in (nayoro, kanazawa):
        texts = tenant.settings["texts"]
        raw = [v for v in texts.values() if isinstance(v, str)] + [i["answer"] for i in texts["faq"]]
        assert any("{" in text for text in raw), tenant.slug
        filled = filled_texts(tenant.settings)
        assert "{" not in "".join(v for v in filled.values() if isinstance(v, str))
    assert "AM7:00〜AM2:00" in filled_texts(kanazawa.settings)["login_notice"]
