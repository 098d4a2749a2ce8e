"""同じ人数の世帯の平均 (billing/households.py, issue 14 §2): the bills import stores the city's
median usage per month, cycle and household size, set-wise, and recomputes only the months it
changed; the pages use it where at least 20 households make it, else the national table."""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
import statistics
from collections import defaultdict
from types import MappingProxyType

import pytest
from sqlalchemy import select

from tests.billing.test_tariff import thaw
from tests.imports.helpers import bill_row, contract_row, csv_text
from waterportal.billing.households import (
    NATIONAL_M3,
    HouseholdMedian,
    comparison_for,
    refresh_medians,
)
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.time import utcnow_naive
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city, write_city
from waterportal.demo.members import DEMO_MEMBERS
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.schemas import validate_settings

HEADER = (*CONTRACT_COLUMNS, "billing_cycle", "persons")
MONTHS = ("2026-08", "2026-09", "2026-10")


def number(i: int) -> str:
    return f"{10_000_000_000 + i:011d}"


def households(count: int, *, seed: int = 7) -> list[dict]:
    """``count`` Nayoro contracts: sizes 1-7 (5, 6 and 7 share a group), some unknown (empty),
    every fifth read every two months."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        persons = rng.choice(["1", "2", "2", "3", "4", "5", "6", "7", ""])
        rows.append(contract_row(number(i), persons=persons, billing_cycle="bimonthly" if i % 5 == 0 else ""))
    return rows


def used(customer_number: str, month: str, usage: int) -> dict:
    """A valid bill of ``usage`` m³ (the readings agree)."""
    return bill_row(customer_number, month, usage_m3=str(usage), current_reading=str(100 + usage))


def bills(contracts: list[dict], months=MONTHS, *, seed: int = 8) -> list[dict]:
    rng = random.Random(seed)
    return [used(c["customer_number"], month, rng.randrange(0, 60)) for month in months
            for c in contracts]


def load(tenant, contracts, bill_rows):
    with tenant_context(tenant):
        if contracts:
            assert import_contracts(tenant, csv_text(HEADER, contracts).encode(), actor="test").ok
        result = import_bills(tenant, csv_text(BILL_COLUMNS, bill_rows).encode(), actor="test")
        assert result.ok, result.errors[:3]
        db.session.flush()
        return result


def stored(tenant) -> dict[tuple[str, str, int], tuple[int, float]]:
    with tenant_context(tenant):
        rows = db.session.scalars(select(HouseholdMedian))
        return {(r.billing_month, r.cycle, r.persons): (r.households, r.median_m3) for r in rows}


def expected(contracts, bill_rows, city_cycle="monthly") -> dict[tuple[str, str, int], tuple[int, float]]:
    """The same medians by Python's statistics.median."""
    size = {c["customer_number"]: (int(c["persons"]), c["billing_cycle"] or city_cycle)
            for c in contracts if c["persons"]}
    groups = defaultdict(list)
    for bill in bill_rows:
        if bill["customer_number"] in size:
            persons, cycle = size[bill["customer_number"]]
            groups[(bill["billing_month"], cycle, min(persons, 5))].append(int(bill["usage_m3"]))
    return {key: (len(used), float(statistics.median(used))) for key, used in groups.items()}


def test_the_import_stores_the_median_of_each_month_cycle_and_size(app_ctx, nayoro):
    contracts = households(120)
    rows = bills(contracts)
    load(nayoro, contracts, rows)
    want = expected(contracts, rows)
    # Odd and even groups, monthly and bimonthly, the 5+ group mixing 5, 6 and 7 persons.
    assert {n % 2 for n, _ in want.values()} == {0, 1}
    assert {cycle for _, cycle, _ in want} == {"monthly", "bimonthly"} and {g for *_, g in want} == {1, 2, 3, 4, 5}
    assert stored(nayoro) == want


def test_both_statements_give_the_same_numbers(app_ctx, nayoro):
    """SQLite's window statement on SQLite; on PostgreSQL percentile_cont and the window
    statement side by side: equal, and equal to statistics.median."""
    contracts = households(90, seed=3)
    rows = bills(contracts, seed=4)
    load(nayoro, contracts, rows)
    methods = ["window", "percentile"] if db.session.connection().dialect.name == "postgresql" else ["window"]
    results = []
    for method in methods:
        with tenant_context(nayoro):
            refresh_medians(nayoro, list(MONTHS), utcnow_naive(), method=method)
        results.append(stored(nayoro))
    assert all(result == expected(contracts, rows) for result in results)


def test_the_import_recomputes_only_the_months_it_changed(app_ctx, nayoro, clock):
    contracts = households(60, seed=5)
    rows = bills(contracts)
    load(nayoro, contracts, rows)
    with tenant_context(nayoro):
        before = {(r.billing_month, r.cycle, r.persons): (r.id, r.computed_at)
                  for r in db.session.scalars(select(HouseholdMedian))}
    clock.shift(days=1)
    # The same three months again, one October bill changed: only October is recomputed.
    changed = [dict(r) for r in rows]
    october = next(r for r in changed if r["billing_month"] == "2026-10"
                   and any(c["customer_number"] == r["customer_number"] and c["persons"] for c in contracts))
    october.update(used(october["customer_number"], "2026-10", 999))
    result = load(nayoro, [], changed)
    assert (result.inserted, result.updated) == (0, 1)
    with tenant_context(nayoro):
        after = {(r.billing_month, r.cycle, r.persons): (r.id, r.computed_at)
                 for r in db.session.scalars(select(HouseholdMedian))}
    assert {k: v for k, v in after.items() if k[0] != "2026-10"} == {k: v for k, v in before.items() if k[0] != "2026-10"}
    assert all(v[1] > before[k][1] for k, v in after.items() if k[0] == "2026-10")
    assert stored(nayoro) == expected(contracts, changed)


def test_an_import_that_changes_nothing_computes_nothing(app_ctx, nayoro, clock):
    contracts = households(30, seed=9)
    rows = bills(contracts, months=("2026-10",))
    load(nayoro, contracts, rows)
    with tenant_context(nayoro):
        ids = set(db.session.scalars(select(HouseholdMedian.id)))
    clock.shift(hours=1)
    assert load(nayoro, [], rows).unchanged == len(rows)
    with tenant_context(nayoro):
        assert set(db.session.scalars(select(HouseholdMedian.id))) == ids


def test_a_city_that_does_not_compare_computes_nothing(app_ctx, nayoro):
    settings = {**nayoro.settings, "insight": {**nayoro.settings["insight"], "comparison_enabled": False}}
    off = dataclasses.replace(nayoro, settings=MappingProxyType(settings))
    contracts = households(30, seed=2)
    load(off, contracts, bills(contracts))
    assert stored(nayoro) == {}


def _contract(tenant, customer_number) -> Contract:
    with tenant_context(tenant):
        return db.session.scalar(select(Contract).where(Contract.customer_number == customer_number))


def test_twenty_households_make_a_city_median_nineteen_do_not(app_ctx, nayoro):
    """Privacy: a group of 19 shows the national figure (labelled national), 20 the city's."""
    contracts = [contract_row(number(i), persons="2") for i in range(20)]
    usage = {c["customer_number"]: 10 + i for i, c in enumerate(contracts)}
    rows = [used(n, "2026-10", u) for n, u in usage.items()]
    load(nayoro, contracts[:19], rows[:19])
    mine = _contract(nayoro, number(0))
    with tenant_context(nayoro):
        few = comparison_for(nayoro, mine, "2026-10", 10)
    assert few.national and few.households is None and few.typical_m3 == NATIONAL_M3[2]
    load(nayoro, contracts[19:], rows)
    with tenant_context(nayoro):
        enough = comparison_for(nayoro, mine, "2026-10", 10)
    assert not enough.national and enough.households == 20
    assert enough.typical_m3 == statistics.median(usage.values()) == 19.5 and enough.typical_text == "19.5"
    # A city may ask for more households, never fewer than 20 (tenancy/schemas.py).
    stricter = dataclasses.replace(nayoro, settings=MappingProxyType(
        {**nayoro.settings, "insight": {**nayoro.settings["insight"], "comparison_min_households": 21}}))
    with tenant_context(nayoro):
        assert comparison_for(stricter, mine, "2026-10", 10).national


def test_the_schema_refuses_a_threshold_under_twenty(nayoro):
    settings = thaw(nayoro.settings)
    settings["insight"]["comparison_min_households"] = 19
    with pytest.raises(SettingsInvalid) as refused:
        validate_settings(settings)
    assert "insight.comparison_min_households" in refused.value.errors


def test_bimonthly_households_compare_with_bimonthly_ones_and_twice_the_national_figure(app_ctx, nayoro):
    monthly = [contract_row(number(i), persons="3") for i in range(20)]
    two_monthly = [contract_row(number(100 + i), persons="3", billing_cycle="bimonthly") for i in range(5)]
    rows = ([used(c["customer_number"], "2026-10", 10) for c in monthly]
            + [used(c["customer_number"], "2026-10", 40) for c in two_monthly])
    load(nayoro, monthly + two_monthly, rows)
    with tenant_context(nayoro):
        city = comparison_for(nayoro, _contract(nayoro, number(0)), "2026-10", 12)
        two = comparison_for(nayoro, _contract(nayoro, number(100)), "2026-10", 40)
    assert (city.households, city.typical_m3, city.months) == (20, 10.0, 1)
    assert two.national and two.months == 2 and two.typical_m3 == 2 * NATIONAL_M3[3]


def test_five_and_more_use_the_four_person_national_figure_and_unknown_sizes_get_none(app_ctx, nayoro):
    load(nayoro, [contract_row(number(1), persons="6"), contract_row(number(2), persons="")],
         [bill_row(number(1), "2026-10"), bill_row(number(2), "2026-10")])
    with tenant_context(nayoro):
        six = comparison_for(nayoro, _contract(nayoro, number(1)), "2026-10", 20)
        unknown = comparison_for(nayoro, _contract(nayoro, number(2)), "2026-10", 20)
    assert six.national and six.group == 5 and six.typical_m3 == NATIONAL_M3[4]
    assert unknown is None


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_demo_members_see_their_citys_own_median(app_ctx, nayoro, kanazawa, tmp_path, slug):
    """The default demo export (300 contracts, 26 months): each demo member's first contract
    compares with at least 20 households of its size in its city."""
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    contracts_path, bills_path = write_city(
        tmp_path, generate_city(PROFILES[slug], tenant.settings, 300, 26, dt.date(2026, 11, 18)))
    with tenant_context(tenant):
        assert import_contracts(tenant, contracts_path, actor="test").ok
        assert import_bills(tenant, bills_path, actor="test").ok
        contract = _contract(tenant, DEMO_MEMBERS[slug].customer_numbers[0])
        latest = db.session.execute(select(Bill.billing_month, Bill.usage_m3).where(Bill.contract_id == contract.id)
                                    .order_by(Bill.billing_month.desc())).first()
        shown = comparison_for(tenant, contract, latest.billing_month, latest.usage_m3)
    assert contract.persons and shown is not None and not shown.national and shown.households >= 20
