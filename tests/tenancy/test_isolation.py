"""Row isolation: ORM criteria, the flush guard and composite keys, with two cities that
share a customer number and an email address."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from waterportal.accounts.models import Member
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.core.exceptions import CrossTenantWrite, NoTenantContext, UnscopedStatement
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.isolation import ALL_TENANTS

SHARED_NUMBER = "00012345678"


@pytest.fixture
def two_cities(app_ctx, nayoro, kanazawa, make_contract, make_member):
    """Both cities hold customer 00012345678 and member taro@example.jp."""
    ids = {
        "nayoro": make_contract(nayoro, customer_number=SHARED_NUMBER, holder_name="名寄 太郎"),
        "kanazawa": make_contract(kanazawa, customer_number=SHARED_NUMBER, holder_name="金沢 花子"),
    }
    make_member(nayoro, email="taro@example.jp")
    make_member(kanazawa, email="taro@example.jp", login_id="taro01")
    return ids


def test_query_without_tenant_context_fails_loudly(two_cities):
    with pytest.raises(NoTenantContext):
        db.session.scalars(select(Contract)).all()


def test_each_city_sees_only_its_own_rows(two_cities, nayoro, kanazawa):
    for city, holder in ((nayoro, "名寄 太郎"), (kanazawa, "金沢 花子")):
        with tenant_context(city):
            rows = db.session.scalars(select(Contract).where(Contract.customer_number == SHARED_NUMBER)).all()
            assert [r.holder_name for r in rows] == [holder]
            assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_counts_over_an_entity_are_scoped(two_cities, nayoro):
    with tenant_context(nayoro):
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1
        assert db.session.scalar(select(func.count(Contract.id))) == 1


def test_core_statements_on_tenant_tables_are_refused(two_cities, nayoro):
    """Loader criteria cannot reach a bare Table, so such a query must not run silently."""
    with tenant_context(nayoro), pytest.raises(UnscopedStatement):
        db.session.scalar(select(func.count()).select_from(Member.__table__))
    rows = db.session.execute(
        select(Member.__table__.c.email)
        .where(Member.__table__.c.tenant_id == nayoro.id)
        .execution_options(**{ALL_TENANTS: True})
    ).all()
    assert rows == [("taro@example.jp",)]


def test_get_by_primary_key_of_other_city_finds_nothing(two_cities, nayoro):
    with tenant_context(nayoro):
        assert db.session.scalar(select(Contract).where(Contract.id == two_cities["kanazawa"])) is None


def test_joins_are_scoped_too(two_cities, nayoro, kanazawa):
    with tenant_context(kanazawa):
        db.session.add(_bill(two_cities["kanazawa"]))
        db.session.flush()
    with tenant_context(nayoro):
        rows = db.session.execute(select(Bill.id, Contract.holder_name).join(Contract, Contract.id == Bill.contract_id)).all()
        assert rows == []


def test_orm_update_and_delete_touch_only_this_city(two_cities, nayoro, kanazawa):
    with tenant_context(nayoro):
        db.session.execute(update(Contract).values(address="名寄市西3条南"))
        db.session.execute(delete(Member))
    with tenant_context(kanazawa):
        assert db.session.scalar(select(Contract.address)) != "名寄市西3条南"
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_new_rows_are_stamped_with_the_current_city(app_ctx, kanazawa):
    with tenant_context(kanazawa):
        contract = Contract(
            customer_number="0000000001", holder_name="金沢 一郎", holder_name_kana="カナザワイチロウ",
            phone="0762202111", address="金沢市広坂1-1-1", meter_number="K1", meter_diameter_mm=20,
        )
        db.session.add(contract)
        db.session.flush()
        assert contract.tenant_id == kanazawa.id


def test_flush_refuses_a_row_of_another_city(two_cities, nayoro, kanazawa):
    with tenant_context(nayoro):
        db.session.add(Member(tenant_id=kanazawa.id, email="x@example.jp", nickname="x", password_hash="x"))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()


def test_flush_refuses_changing_a_row_loaded_across_cities(two_cities, nayoro):
    foreign = db.session.scalar(
        select(Contract).where(Contract.id == two_cities["kanazawa"]).execution_options(**{ALL_TENANTS: True})
    )
    with tenant_context(nayoro):
        foreign.address = "ここは名寄"
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()


def test_writes_without_context_are_refused(app_ctx):
    db.session.add(Member(email="y@example.jp", nickname="y", password_hash="x"))
    with pytest.raises(NoTenantContext):
        db.session.flush()
    db.session.rollback()


def test_vendor_escape_hatch_reads_every_city(two_cities):
    rows = db.session.scalars(
        select(Contract).where(Contract.customer_number == SHARED_NUMBER).execution_options(**{ALL_TENANTS: True})
    ).all()
    assert sorted(r.holder_name for r in rows) == ["名寄 太郎", "金沢 花子"]


def test_composite_foreign_key_refuses_a_cross_city_reference(two_cities, nayoro):
    """Even SQL that bypasses the ORM hooks cannot point a Nayoro bill at a Kanazawa contract."""
    values = {**_bill_values(two_cities["kanazawa"]), "tenant_id": nayoro.id}
    # Under Nayoro, so that PostgreSQL's row security (a Nayoro row) lets it reach the key.
    with pytest.raises(IntegrityError), tenant_context(nayoro):
        with db.session.begin_nested():
            db.session.execute(insert(Bill.__table__).values(**values))


def test_unique_keys_are_per_city(two_cities, nayoro, make_contract):
    with pytest.raises(IntegrityError):
        make_contract(nayoro, customer_number=SHARED_NUMBER)


def _bill_values(contract_id: int) -> dict:
    return dict(
        contract_id=contract_id, billing_month="2026-10", period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30), reading_date=dt.date(2026, 10, 1), previous_reading=100,
        current_reading=120, usage_m3=20, water_charge=3000, sewer_charge=2509, tax=500, total=5509,
        due_date=dt.date(2026, 10, 31),
    )


def _bill(contract_id: int) -> Bill:
    return Bill(**_bill_values(contract_id))
