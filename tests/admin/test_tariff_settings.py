"""The city's admin edits the 料金表 (``/admin/settings/tariff``, issue 14 §3): the values shown,
a change saved as a revision that the public 料金シミュレーション uses at once, a tier gap or a
non-rising tier refused at its field with nothing saved, and a rollback."""
from __future__ import annotations

import re

from tests.admin.test_procedure_settings import overrides
from tests.admin.test_settings import settings_post
from tests.conftest import city
from waterportal.billing.tariff import estimate


def test_the_tariff_page_shows_the_citys_table(staff_client):
    body = staff_client("nayoro").get("/admin/settings/tariff").get_data(as_text=True)
    assert "口径別の基本料金" in body and "水道 従量料金" in body and "下水道 従量使用料" in body
    assert 'name="tariff.basic.0.diameter_mm" value="13"' in body
    assert 'name="tariff.water_tiers.1.price" value="200"' in body
    assert 'name="tariff.tax_rate" value="10"' in body


def test_a_new_price_is_a_revision_and_the_simulator_uses_it(app, staff_client, client_for):
    client = staff_client("kanazawa")
    saved = settings_post(client, "tariff", {"tariff.water_tiers.1.price": "175", "tariff.note": "令和8年4月検針分から"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    tiers = overrides(app, "kanazawa")["tariff"]["water_tiers"]
    assert [tier["price"] for tier in tiers] == [60, 175, 190, 240]
    assert "upto" not in tiers[-1]  # the open tier: no key (TOML has no null)
    history = client.get("/admin/settings/history").get_data(as_text=True)
    assert "水道 従量料金" in history and "料金シミュレーションの注記" in history
    kanazawa = city(app, "kanazawa")
    citizen = client_for("kanazawa")
    body = citizen.submit("/simulator", {"diameter": "13", "usage": "30", "months": "2", "sewer": "0"}).get_data(as_text=True)
    # Two months, tiers twice as wide: 2 x 600 + 20 x 60 + 10 x 175 = 4,150; 4,565 with tax.
    assert estimate(kanazawa.settings["tariff"], 13, 30, 2, sewer=False).total == 4_565
    assert "4,565円" in body and "令和8年4月検針分から" in body


def test_a_gap_between_tiers_is_refused_at_the_field_and_nothing_is_saved(app, staff_client):
    client = staff_client("nayoro")
    before = overrides(app, "nayoro")
    response = settings_post(client, "tariff", {"tariff.water_tiers.2.over": "25", "tariff.sewer_tiers.1.upto": "5",
                                                "tariff.rounding": "round"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "保存されていません" in body
    assert "3段目の下限(over)は20m³にしてください" in body
    assert "2段目の上限(upto)は下限より大きくしてください" in body
    assert re.search(r'id="f-tariff-rounding-error">', body)
    assert 'value="25"' in body and 'name="tariff.rounding" value="round"' in body
    assert overrides(app, "nayoro") == before
