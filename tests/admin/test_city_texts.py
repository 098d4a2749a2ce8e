"""Issue 13 #8: city texts with placeholders follow the settings, in the pages and the console."""
from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import time_machine

from tests.admin.test_settings import settings_post, tenant_state

TOKYO = ZoneInfo("Asia/Tokyo")


def test_kanazawas_texts_follow_the_service_hours_staff_save(app, staff_client, client_for):
    with time_machine.travel(dt.datetime(2026, 11, 18, 12, 0, tzinfo=TOKYO), tick=False):
        citizen = client_for("kanazawa")
        for path in ("/login", "/pages/about", "/faq"):
            body = citizen.get(path).get_data(as_text=True)
            assert "ご利用可能時間は、毎日AM7:00〜AM2:00の間です。" in body, path
        response = settings_post(staff_client("kanazawa"), "hours", {"service_hours.open": "06:30",
                                                                     "service_hours.close": "23:00"})
        assert response.status_code == 302
        for path in ("/login", "/pages/about", "/faq"):
            body = citizen.get(path).get_data(as_text=True)
            assert "ご利用可能時間は、毎日AM6:30〜PM11:00の間です。" in body and "{service_hours}" not in body, path


def test_a_mistyped_placeholder_is_refused_at_its_field_and_nothing_is_saved(app, staff_client):
    client = staff_client("kanazawa")
    before = tenant_state(app, "kanazawa")
    body = settings_post(client, "pages", {"texts.login_notice": "毎日{service_hour}です"}).get_data(as_text=True)
    error = re.search(r'id="f-texts-login_notice-error">([^<]*)<', body)
    assert error and "{service_hour} は使えない差し込み項目です" in html.unescape(error.group(1))
    assert "{service_hours}" in html.unescape(error.group(1))  # the right names are listed
    assert tenant_state(app, "kanazawa") == before


def test_the_preview_shows_the_filled_text(app, staff_client):
    client = staff_client("kanazawa")
    body = settings_post(client, "pages", {"texts.login_notice": "認証コードは{code_ttl_minutes}分、{service_hours}"},
                         action="preview").get_data(as_text=True)
    srcdoc = html.unescape(re.search(r'<iframe sandbox="" title="[^"]+" srcdoc="([^"]*)"', body).group(1))
    assert "認証コードは30分、AM7:00〜AM2:00" in srcdoc and "{code_ttl_minutes}" not in srcdoc
    assert "認証コードは{code_ttl_minutes}分、{service_hours}</textarea>" in html.unescape(body)  # kept for saving
