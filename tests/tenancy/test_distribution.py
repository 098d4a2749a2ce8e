"""Citus co-location readiness (waterportal/tenancy/distribution.py): every city-owned table of
the models could be distributed by tenant_id, the database refuses a reference to another
city's row, and on PostgreSQL the generated primary-key swap leaves an app that still works."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from tests.conftest import POSTGRES_ONLY, CityClient, _postgres_database, build_database, make_config
from waterportal.accounts.models import Member
from waterportal.app import create_app
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import NAMING_CONVENTION, db
from waterportal.inquiries.models import Inquiry
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.distribution import (
    ANCHOR,
    REFERENCE,
    citus_ddl,
    distributed_tables,
    distribution_problems,
    primary_key_swap,
    reference_tables,
)
from waterportal.tenancy.registry import get_registry


def test_every_city_table_of_the_models_can_be_distributed_by_tenant_id():
    """Fails naming the table and the constraint, for any table added later too (the walk
    reads db.metadata, which waterportal/models.py fills with every package's tables)."""
    problems = distribution_problems(db.metadata)
    assert problems == [], "tables Citus could not distribute by tenant_id:\n" + "\n".join(problems)


def test_every_table_is_distributed_or_a_reference_table():
    distributed = {t.name for t in distributed_tables(db.metadata)}
    reference = {t.name for t in reference_tables(db.metadata)}
    assert distributed | reference == set(db.metadata.tables) and not distributed & reference
    assert {"members", "contracts", "bills", "mail_outbox", "audit_log"} <= distributed
    # The platform's own tables (no tenant_id) and the declared exceptions are reference tables.
    assert {"tenants", "vendor_staff", "vendor_sessions", *REFERENCE} <= reference
    assert all("tenant_id" not in t.c or t.name in REFERENCE for t in reference_tables(db.metadata))


def _bad_schema() -> MetaData:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    Table("tenants", metadata, Column("id", Integer, primary_key=True))
    Table("parents", metadata, Column("id", Integer, primary_key=True),
          Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
          Column("code", String(10)), UniqueConstraint("code"))
    Table("children", metadata, Column("id", Integer, primary_key=True),
          Column("tenant_id", ForeignKey("tenants.id"), nullable=True),
          Column("parent_id", Integer), ForeignKeyConstraint(["parent_id"], ["parents.id"]),
          UniqueConstraint("tenant_id", "id"))
    Table("platform_notes", metadata, Column("id", Integer, primary_key=True),
          Column("parent_id", ForeignKey("parents.id")))
    return metadata


def test_the_walk_names_each_table_and_constraint_that_would_not_distribute():
    problems = distribution_problems(_bad_schema())
    assert sorted(problems) == sorted([
        "parents: no UNIQUE (tenant_id, id) to become its primary key (add TenantScoped.tenant_key() to __table_args__)",
        "parents: unique key uq_parents_code (code) lacks tenant_id",
        "children: tenant_id is nullable",
        "children: foreign key fk_children_parent_id_parents (parent_id) -> parents lacks tenant_id on both sides "
        "(use tenancy.models.tenant_fk)",
        "platform_notes: reference table, but fk_platform_notes_parent_id_parents points at the distributed table parents",
    ])
    with pytest.raises(ValueError, match="uq_parents_code"):
        citus_ddl(_bad_schema())


def test_citus_ddl_swaps_each_primary_key_and_distributes_every_city_table(runner):
    result = runner.invoke(args=["tenant", "citus-ddl"])
    assert result.exit_code == 0, result.output
    out = result.output
    for table in distributed_tables(db.metadata):
        assert (f"ALTER TABLE {table.name} DROP CONSTRAINT pk_{table.name}, "
                f"ADD CONSTRAINT pk_{table.name} PRIMARY KEY (tenant_id, id);") in out
        colocate = "'none'" if table.name == ANCHOR else f"'{ANCHOR}'"
        assert f"SELECT create_distributed_table('{table.name}', 'tenant_id', colocate_with => {colocate});" in out
    for table in reference_tables(db.metadata):
        assert f"SELECT create_reference_table('{table.name}');" in out
    # Reference tables exist before the tables that point at them; the anchor comes first.
    assert out.index("create_reference_table('tenants')") < out.index("create_distributed_table") \
        == out.index(f"create_distributed_table('{ANCHOR}'")
    # A referenced table is distributed before the tables whose keys point at it.
    assert out.index("create_distributed_table('members'") < out.index("create_distributed_table('member_contracts'")
    only = runner.invoke(args=["tenant", "citus-ddl", "--primary-keys-only"]).output
    assert only.splitlines() == [f"{s};" for s in primary_key_swap(db.metadata)]


@pytest.mark.parametrize("table", ["member_contracts", "inquiries"])
def test_the_database_refuses_a_reference_to_another_citys_row(app_ctx, nayoro, kanazawa, make_member,
                                                               make_contract, table):
    """Raw SQL past the ORM's hooks: a Nayoro row naming Kanazawa's member or contract fails the
    composite foreign key (SQLite and PostgreSQL alike), while the same row in its city passes."""
    nayoro_member = make_member(nayoro)
    kanazawa_member = make_member(kanazawa)
    kanazawa_contract = make_contract(kanazawa)
    nayoro_contract = make_contract(nayoro)
    if table == "member_contracts":
        def row(member, contract):
            return insert(MemberContract.__table__).values(tenant_id=nayoro.id, member_id=member, contract_id=contract)
        foreign, own = row(nayoro_member, kanazawa_contract), row(nayoro_member, nayoro_contract)
    else:
        def row(member, contract):
            return insert(Inquiry.__table__).values(
                tenant_id=nayoro.id, member_id=member, name="水道 太郎", email="taro@example.jp", category="その他",
                subject="件名", body="本文", status="new")
        foreign, own = row(kanazawa_member, None), row(nayoro_member, None)
    # Under Nayoro, so that PostgreSQL's row security (a Nayoro row) lets the insert reach the key.
    with tenant_context(nayoro):
        with pytest.raises(IntegrityError, match="(?i)foreign key"), db.session.begin_nested():
            db.session.execute(foreign)
        with db.session.begin_nested():
            db.session.execute(own)


# ---- PostgreSQL: the primary-key swap on a database of the test set-up ------------------------

_KEYS_SQL = """
SELECT con.conname, con.contype,
       bool_or(att.attname = 'tenant_id') AS has_city,
       ref.relname AS referred
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = rel.relnamespace AND ns.nspname = current_schema()
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE rel.relname = %s AND con.contype IN ('p', 'u', 'f')
GROUP BY con.conname, con.contype, ref.relname
"""


@pytest.fixture
def swapped_database():
    """A database built like the suite's own (models, row security, both cities), whose owner
    then ran the generated primary-key swap; yields (owner URL, app URL)."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip(POSTGRES_ONLY)
    url, drop = _postgres_database(base, f"citus{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    try:
        app_url = build_database(url)
        owner = create_engine(url)
        with owner.begin() as conn:
            for statement in primary_key_swap(db.metadata):
                conn.exec_driver_sql(statement)
        owner.dispose()
        yield url, app_url
    finally:
        drop()


@pytest.mark.postgres
@pytest.mark.real_commits  # its own database: db.session must not be the suite's rolled-back one
def test_after_the_primary_key_swap_every_key_carries_the_city_and_the_app_still_works(swapped_database):
    owner_url, app_url = swapped_database
    owner = create_engine(owner_url)
    distributed = {t.name for t in distributed_tables(db.metadata)}
    with owner.connect() as conn:
        for table in sorted(distributed):
            keys = conn.exec_driver_sql(_KEYS_SQL, (table,)).all()
            assert ("pk_" + table, "p", True, None) in keys, keys
            missing = [k.conname for k in keys if not k.has_city and (k.contype != "f" or k.referred in distributed)]
            assert missing == [], f"{table}: keys without tenant_id: {missing}"
    owner.dispose()

    app = create_app(make_config(app_url))
    try:
        with app.app_context():
            registry = get_registry()
            registry.refresh(force=True)
            nayoro = registry.by_slug("nayoro")
            with tenant_context(nayoro):
                contract = Contract(customer_number="00012345678", holder_name="水道 太郎", holder_name_kana="スイドウタロウ",
                                    phone="0165432111", address="風連町西町196番地1", meter_number="M1",
                                    meter_diameter_mm=13)
                member = Member(email="taro@example.jp", nickname="水道太郎", password_hash=hash_password("Passw0rd!x"))
                db.session.add_all([contract, member])
                db.session.flush()
                db.session.add(MemberContract(member_id=member.id, contract_id=contract.id, label="自宅"))
                db.session.commit()
                member_id = member.id
                db.session.expunge_all()
                # The ORM's identity is still id alone.
                assert db.session.get(Member, member_id).email == "taro@example.jp"
        app.test_client_class = CityClient
        client = app.test_client()
        assert client.get("/login").status_code == 200
        response = client.submit("/login", {"identifier": "taro@example.jp", "password": "Passw0rd!x"})
        assert response.status_code == 302, response.get_data(as_text=True)
        page = client.get("/mypage")
        assert page.status_code == 200 and "00012345678" in page.get_data(as_text=True)
        sent = client.submit("/inquiry", {"name": "水道 太郎", "email": "taro@example.jp", "customer_number": "",
                                          "category": "その他", "subject": "使用量", "body": "確認をお願いします。"})
        assert sent.status_code == 302 and sent.headers["Location"] == "/inquiry/sent"
        with app.app_context(), tenant_context(nayoro):
            [subject] = db.session.scalars(select(Inquiry.subject)).all()
            assert subject == "使用量"
    finally:
        with app.app_context():
            db.engine.dispose()
