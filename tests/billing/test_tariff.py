"""料金シミュレーション (issue 14 §3): the tariff arithmetic, the schema's refusals, the public
page of both cities, and every demo bill reproduced by the simulator."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import pytest
from sqlalchemy import select

from waterportal.billing.tariff import estimate
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.invoice_numbers import included_tax
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city
from waterportal.extensions import db
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.schemas import validate_settings

TODAY = dt.date(2026, 11, 21)
TIERS = [{"over": 0, "upto": 10, "price": 100}, {"over": 10, "upto": 20, "price": 200}, {"over": 20, "price": 300}]


def tariff(**changes) -> dict:
    base = {"basic": [{"diameter_mm": 13, "water": 1_000, "sewer": 500}], "water_tiers": TIERS,
            "sewer_tiers": [{"over": 0, "price": 50}], "tax_rate": 10, "rounding": "floor", "rounding_unit": 1,
            "bimonthly": "double", "note": ""}
    return {**base, **changes}


def test_monthly_charge_is_basic_plus_each_tier_plus_tax_per_charge():
    result = estimate(tariff(), 13, 25)
    water, sewer = result.charges
    # 1,000 + 10 x 100 + 10 x 200 + 5 x 300 = 5,500 before tax; 6,050 with 10%.
    assert [line.yen for line in water.lines] == [1_000, 1_000, 2_000, 1_500]
    assert [line.label for line in water.lines][1:] == ["従量料金 1〜10m³", "従量料金 11〜20m³", "従量料金 21m³以上"]
    assert (water.before_tax, water.tax, water.amount) == (5_500, 550, 6_050)
    assert (sewer.before_tax, sewer.amount) == (500 + 25 * 50, 1_925)
    assert result.total == 6_050 + 1_925
    assert estimate(tariff(), 13, 25, sewer=False).total == 6_050
    # No use: the basic charges only, and no tier rows.
    assert [line.label for line in estimate(tariff(), 13, 0).charges[0].lines] == ["基本料金"]


def test_bimonthly_rules_double_the_tiers_or_split_the_usage():
    # double: 2 x 1,000 + 20 x 100 + 5 x 200 = 5,000
    assert estimate(tariff(), 13, 25, months=2).charges[0].before_tax == 5_000
    # split: 13 m³ + 12 m³, each on the monthly tiers: 2 x 1,000 + 20 x 100 + 5 x 200 = 5,000 too...
    assert estimate(tariff(bimonthly="split"), 13, 25, months=2).charges[0].before_tax == 5_000
    # ...but not when one month alone reaches a tier the doubled table would not: 45 m³ = 23 + 22.
    doubled = estimate(tariff(), 13, 45, months=2).charges[0].before_tax  # 2,000 + 20x100 + 20x200 + 5x300
    split = estimate(tariff(bimonthly="split"), 13, 45, months=2).charges[0].before_tax  # 2,000 + 2x(1,000+2,000) + 5x300
    assert (doubled, split) == (9_500, 9_500)
    uneven = tariff(bimonthly="split", water_tiers=[{"over": 0, "upto": 5, "price": 0}, {"over": 5, "price": 100}])
    # split 11 m³ = 6 + 5: (6-5) x 100 = 100; doubled: 11-10 = 1 m³ x 100 = 100; 9 m³ = 5 + 4: 0 vs 0.
    assert estimate(uneven, 13, 11, months=2).charges[0].before_tax == 2_000 + 100
    assert estimate({**uneven, "bimonthly": "double"}, 13, 11, months=2).charges[0].before_tax == 2_000 + 100
    assert estimate(uneven, 13, 7, months=2).charges[0].before_tax == 2_000  # 4 + 3: free in both months
    assert estimate({**uneven, "bimonthly": "double"}, 13, 7, months=2).charges[0].before_tax == 2_000
    assert estimate(uneven, 13, 13, months=2).charges[0].before_tax == 2_000 + 300  # 7 + 6: 2 + 1 m³
    assert estimate({**uneven, "bimonthly": "double"}, 13, 13, months=2).charges[0].before_tax == 2_000 + 300


def test_rounding_rules_and_units():
    # 1,234 before tax: 1,357.4 with tax.
    flat = {"water_tiers": [{"over": 0, "price": 0}], "basic": [{"diameter_mm": 13, "water": 1_234, "sewer": 0}]}
    amounts = {(rule, unit): estimate(tariff(**flat, rounding=rule, rounding_unit=unit), 13, 0).water
               for rule in ("floor", "half_up", "ceil") for unit in (1, 10)}
    assert amounts == {("floor", 1): 1_357, ("half_up", 1): 1_357, ("ceil", 1): 1_358,
                       ("floor", 10): 1_350, ("half_up", 10): 1_360, ("ceil", 10): 1_360}
    assert estimate(tariff(**flat, tax_rate=8), 13, 0).water == 1_332


def test_unknown_diameter_or_period_is_refused():
    with pytest.raises(ValueError, match="25 mm"):
        estimate(tariff(), 25, 10)
    with pytest.raises(ValueError):
        estimate(tariff(), 13, 10, months=3)
    with pytest.raises(ValueError):
        estimate(tariff(), 13, -1)


@pytest.mark.parametrize(("tiers", "message"), [
    ([{"over": 0, "upto": 10, "price": 1}, {"over": 12, "price": 2}], "2段目の下限(over)は10m³"),  # a gap
    ([{"over": 0, "upto": 10, "price": 1}, {"over": 8, "price": 2}], "2段目の下限(over)は10m³"),  # an overlap
    ([{"over": 0, "upto": 10, "price": 1}, {"over": 10, "upto": 10, "price": 2}, {"over": 10, "price": 3}],
     "2段目の上限(upto)は下限より大きく"),  # not rising
    ([{"over": 5, "price": 1}], "1段目の下限(over)は0m³"),
    ([{"over": 0, "price": 1}, {"over": 0, "upto": 10, "price": 2}], "上限のない段は最後の段だけ"),
    ([{"over": 0, "upto": 10, "price": 1}], "最後の段は上限(upto)を空に"),
])
@pytest.mark.parametrize("key", ["water_tiers", "sewer_tiers"])
def test_the_schema_refuses_bad_tiers_naming_the_key(nayoro_definition, tiers, message, key):
    settings = nayoro_definition()
    settings["tariff"][key] = tiers
    with pytest.raises(SettingsInvalid) as caught:
        validate_settings(settings)
    assert any(message in reason for reason in caught.value.errors[f"tariff.{key}"]), caught.value.errors


def test_the_schema_refuses_a_repeated_diameter_and_bad_rules(nayoro_definition):
    settings = nayoro_definition()
    settings["tariff"]["basic"].append(dict(settings["tariff"]["basic"][0]))
    settings["tariff"].update(rounding="round", rounding_unit=5, bimonthly="triple")
    with pytest.raises(SettingsInvalid) as caught:
        validate_settings(settings)
    assert set(caught.value.errors) == {"tariff.basic", "tariff.rounding", "tariff.rounding_unit", "tariff.bimonthly"}
    assert "同じ口径" in caught.value.errors["tariff.basic"][0]


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_simulator_reproduces_every_demo_bill(request, slug):
    """`flask demo generate`'s defaults (300 contracts, 26 months): every bill, both cycles."""
    tenant = request.getfixturevalue(slug)
    settings = tenant.settings
    export = generate_city(PROFILES[slug], settings, 300, 26, TODAY)
    households = {h.customer_number: h for h in export.households}
    cycles = {row["customer_number"]: row["billing_cycle"] or settings["billing"]["cycle"] for row in export.contracts}
    checked = set()
    for bill in export.bills:
        household = households[bill["customer_number"]]
        months = 2 if cycles[bill["customer_number"]] == "bimonthly" else 1
        result = estimate(settings["tariff"], household.meter_diameter_mm, int(bill["usage_m3"]), months,
                          sewer=household.has_sewer)
        assert (result.water, result.sewer, result.total) == (
            int(bill["water_charge"]), int(bill["sewer_charge"]), int(bill["total"])), bill
        assert int(bill["tax"]) == included_tax(result.total, 10, settings["invoice"]["rounding"])
        checked.add((months, household.has_sewer, household.meter_diameter_mm))
    assert len(export.bills) > 3_000
    assert {months for months, _, _ in checked} == ({1, 2} if slug == "nayoro" else {2})


def thaw(value):
    """A city's frozen settings as plain dicts and lists (what tenant.toml loads to)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


@pytest.fixture
def nayoro_definition(nayoro):
    return lambda: thaw(nayoro.settings)


def simulate(client, data: dict):
    return client.submit("/simulator", data)


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_public_page_computes_the_charge_with_its_breakdown(request, client_for, slug):
    tenant = request.getfixturevalue(slug)
    client = client_for(slug)
    page = client.get("/simulator")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "料金シミュレーション" in body
    assert all(f'value="{d}"' in body for d in (13, 20, 25))
    assert tenant.settings["tariff"]["note"] in body  # the demo tariffs say they are examples
    response = simulate(client, {"diameter": "20", "usage": "３５", "months": "2", "sewer": "1"})
    body = response.get_data(as_text=True)
    expected = estimate(tenant.settings["tariff"], 20, 35, 2)
    assert response.status_code == 200
    assert f"{expected.total:,}円" in body and f"{expected.water:,}円" in body and f"{expected.sewer:,}円" in body
    assert "基本料金" in body and "下水道使用料" in body and "消費税等(10%)" in body
    without = simulate(client, {"diameter": "13", "usage": "1,200", "months": "1", "sewer": "0"})
    text = without.get_data(as_text=True)
    assert f"{estimate(tenant.settings['tariff'], 13, 1200, 1, sewer=False).total:,}円" in text
    result = re.search(r'<section class="card simulator-result".*?</section>', text, flags=re.S).group(0)
    assert "水道料金" in result and "下水道使用料" not in result


@pytest.mark.parametrize("value", ["", "-1", "abc", "1.5", "100000", "9" * 40])
def test_bad_usage_is_refused_at_the_field_with_the_input_kept(client_for, value):
    client = client_for("nayoro")
    response = simulate(client, {"diameter": "13", "usage": value, "months": "1", "sewer": "1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="usage-error">使用水量', body)
    assert f'value="{value}"' in body if value else 'name="usage"' in body
    assert "計算結果" not in body


def test_a_diameter_or_period_not_offered_is_refused(client_for):
    client = client_for("kanazawa")
    response = simulate(client, {"diameter": "40", "usage": "10", "months": "3", "sewer": "2"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("diameter", "months", "sewer"):
        assert f'id="{field}-error"' in body


def test_a_city_without_a_tariff_has_no_simulator(app, client_for):
    with app.app_context():
        row = db.session.scalar(select(Tenant).where(Tenant.slug == "nayoro"))
        row.settings = {k: v for k, v in row.settings.items() if k != "tariff"}
        row.version += 1
        db.session.commit()
    client = client_for("nayoro")
    assert client.get("/simulator").status_code == 404
    assert "/simulator" not in client.get("/faq").get_data(as_text=True)
