"""The city's 漏水の可能性 thresholds (tenant.toml ``[insight]``, issue 14 §1): the schema refuses a
bad value naming the key; the city's admin edits them in the console (設定 → 使用量のお知らせ) as
a revision, a bad ratio refused at its field with nothing saved; the next import uses them."""
from __future__ import annotations

import re

import pytest

from tests.admin.test_procedure_settings import overrides
from tests.admin.test_settings import settings_post
from tests.billing.test_tariff import thaw
from tests.conftest import city
from waterportal.core.exceptions import SettingsInvalid
from waterportal.tenancy.schemas import validate_settings


@pytest.mark.parametrize(("key", "value", "message"), [
    ("leak_ratio", 0.9, "leak_ratio(前年同期との比)は1.1以上10以下で指定してください"),
    ("leak_ratio", "1.5倍", "数値で指定してください。"),
    ("leak_ratio", "nan", "数値で指定してください。"),
    ("leak_min_m3", 0, "leak_min_m3(前年同期からの増加量 m³)は1以上10000以下で指定してください"),
    ("leak_usual_bills", 30, "leak_usual_bills(ふだんの使用量とみなす直前の請求の数)は1以上24以下で指定してください"),
    ("leak_enabled", "maybe", "true または false で指定してください。"),
])
def test_the_schema_refuses_bad_thresholds_naming_the_key(nayoro, key, value, message):
    settings = thaw(nayoro.settings)
    settings["insight"][key] = value
    with pytest.raises(SettingsInvalid) as caught:
        validate_settings(settings)
    assert caught.value.errors[f"insight.{key}"] == [message], caught.value.errors


def test_the_defaults(nayoro, kanazawa):
    for tenant in (nayoro, kanazawa):
        insight = tenant.settings["insight"]
        assert (insight["leak_enabled"], insight["leak_ratio"], insight["leak_min_m3"], insight["leak_usual_bills"]) == (
            True, 1.5, 5, 6)


def test_the_admin_edits_the_thresholds_as_a_revision(app, staff_client):
    client = staff_client("nayoro")
    body = client.get("/admin/settings/insight").get_data(as_text=True)
    assert "使用量のお知らせ" in body and "前年同期の何倍以上で知らせるか(倍)" in body
    assert 'name="insight.leak_ratio" value="1.5"' in body and 'name="insight.leak_min_m3" value="5"' in body
    saved = settings_post(client, "insight", {"insight.leak_ratio": "2", "insight.leak_min_m3": "８"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert overrides(app, "nayoro")["insight"] == {"leak_ratio": 2.0, "leak_min_m3": 8}  # what changed
    assert city(app, "nayoro").settings["insight"]["leak_ratio"] == 2.0
    assert "前年同期の何倍以上で知らせるか(倍)" in client.get("/admin/settings/history").get_data(as_text=True)
    off = settings_post(client, "insight", {"insight.leak_enabled": None})
    assert off.status_code == 302 and city(app, "nayoro").settings["insight"]["leak_enabled"] is False


def test_a_bad_ratio_is_refused_at_its_field_and_nothing_is_saved(app, staff_client):
    client = staff_client("kanazawa")
    before = overrides(app, "kanazawa")
    response = settings_post(client, "insight", {"insight.leak_ratio": "1.0", "insight.leak_usual_bills": "abc"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "保存されていません" in body
    assert "leak_ratio(前年同期との比)は1.1以上10以下で指定してください" in body
    assert re.search(r'id="f-insight-leak_ratio-error"', body) and re.search(r'id="f-insight-leak_usual_bills-error"', body)
    assert 'name="insight.leak_ratio" value="1.0"' in body and 'value="abc"' in body
    assert overrides(app, "kanazawa") == before
