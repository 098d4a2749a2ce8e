"""The city's admin configures 各種お手続き in the console (``/admin/settings/procedures``):
the values shown, a change reaching the citizens' pages at once, bad values refused next to
their field with nothing saved, and the vendor's keys not offered."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.admin.test_settings import settings_post
from tests.conftest import city
from waterportal.extensions import db
from waterportal.procedures import dates
from waterportal.tenancy.models import Tenant


def overrides(app, slug: str) -> dict:
    with app.app_context():
        return db.session.scalar(select(Tenant).where(Tenant.slug == slug)).overrides


def test_the_procedures_page_shows_the_citys_values_and_no_vendor_key(staff_client):
    body = staff_client("kanazawa").get("/admin/settings/procedures").get_data(as_text=True)
    assert "受け付ける手続き" in body and "move_in" in body and "leak_reduction" in body
    assert 'name="procedures.lead_business_days" value="3"' in body
    assert 'name="procedures.horizon_days" value="30"' in body
    for vendor_key in ("export_encoding", "attachment_max_mb", "duplicate_window_minutes"):
        assert f'name="procedures.{vendor_key}"' not in body


def test_a_change_reaches_the_citizens_pages_at_once(app, staff_client, client_for):
    client = staff_client("kanazawa")
    enabled = "\n".join(k for k in city(app, "kanazawa").settings["procedures"]["enabled"] if k != "move_in")
    saved = settings_post(client, "procedures", {"procedures.enabled": enabled, "procedures.lead_business_days": "5"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert overrides(app, "kanazawa")["procedures"]["lead_business_days"] == 5
    kanazawa = city(app, "kanazawa")
    # Wednesday 2026-11-18, five business days: 19, 20, (23 is a holiday) 24, 25, 26.
    assert dates.date_window(kanazawa, dt.date(2026, 11, 18)).earliest == dt.date(2026, 11, 26)
    citizen = client_for("kanazawa")
    menu = citizen.get("/procedures/").get_data(as_text=True)
    assert 'href="/procedures/new/move_in"' not in menu and 'href="/procedures/new/move_out"' in menu
    assert citizen.get("/procedures/new/move_in").status_code == 404


def test_bad_values_are_refused_at_their_field_and_nothing_is_saved(app, staff_client):
    client = staff_client("kanazawa")
    before = overrides(app, "kanazawa")
    response = settings_post(client, "procedures", {
        "procedures.lead_business_days": "31", "procedures.horizon_days": "abc", "procedures.enabled": "move_in\nteleport",
    })
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "保存されていません" in body
    assert re.search(r'id="f-procedures-lead_business_days-error">0〜30の範囲で入力してください。', body)
    assert re.search(r'id="f-procedures-horizon_days-error">整数で入力してください。', body)
    assert 'name="procedures.horizon_days" value="abc"' in body
    assert "teleport" in body
    assert overrides(app, "kanazawa") == before
