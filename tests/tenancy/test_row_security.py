"""PostgreSQL row-level security: the database's own wall behind the ORM's tenant filter.

The suite's PostgreSQL app connects as the non-owner role (tests/conftest.py build_database),
so these statements run exactly as production's do. PostgreSQL only: run with
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres (CI always does).
"""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from tests.conftest import POSTGRES_ONLY
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import TenantAsset
from waterportal.tenancy.row_security import APP_ROLE, CROSS_DELETE, CROSS_ROLE, EXEMPT, POLICY
from waterportal.vendor_console.overview import city_figures

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture(autouse=True)
def _postgres_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip(POSTGRES_ONLY)


@pytest.fixture
def members(nayoro, kanazawa, make_member):
    """Two members in Nayoro, one in Kanazawa (same email in both cities)."""
    make_member(nayoro, email="taro@example.jp")
    make_member(nayoro, email="hanako@example.jp")
    make_member(kanazawa, email="taro@example.jp")


def unprotected_tables(conn) -> list[str]:
    """Tables of the models with a tenant_id column that lack row security or its policy."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relrowsecurity "
        "AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = :policy)"
    ), {"policy": POLICY}).scalars()
    protected = set(rows)
    tenant_tables = {t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c and t.name not in EXEMPT}
    return sorted(tenant_tables - protected)


def test_every_tenant_table_has_its_policy():
    # Found from the models' metadata: a new city-owned table without the policy fails here.
    assert unprotected_tables(db.session.connection()) == []
    assert {"members", "contracts", "bills", "mail_outbox"} <= {
        t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c
    }


def test_the_app_connects_as_a_role_the_policies_bind():
    user, is_super, bypasses = db.session.execute(text(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )).one()
    owns = db.session.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")).scalar()
    assert (user, is_super, bypasses, owns) == (APP_ROLE, False, False, 0)


def test_raw_sql_without_the_tenant_filter_sees_only_the_current_city(members, nayoro, kanazawa):
    with tenant_context(nayoro):
        nayoro_rows = db.session.execute(text("SELECT tenant_id, email FROM members")).all()
    with tenant_context(kanazawa):
        kanazawa_rows = db.session.execute(text("SELECT tenant_id, email FROM members")).all()
    assert sorted(nayoro_rows) == [(nayoro.id, "hanako@example.jp"), (nayoro.id, "taro@example.jp")]
    assert kanazawa_rows == [(kanazawa.id, "taro@example.jp")]


def test_raw_sql_inside_a_nayoro_request_sees_only_nayoro(members, nayoro, app):
    with app.test_request_context("/login", base_url="http://nayoro.localhost"):
        assert app.preprocess_request() is None  # the pipeline chose the city from the Host
        seen = db.session.execute(text("SELECT DISTINCT tenant_id FROM members")).scalars().all()
    assert seen == [nayoro.id]


def test_without_a_city_the_app_role_sees_no_rows(members):
    assert db.session.execute(text("SELECT count(*) FROM members")).scalar() == 0
    assert db.session.execute(text("SELECT count(*) FROM contracts")).scalar() == 0


@pytest.mark.parametrize("under_nayoro", [True, False])
def test_a_row_for_another_city_fails_the_check(nayoro, kanazawa, under_nayoro):
    row = {"tenant_id": kanazawa.id, "name": "logo.png", "content_type": "image/png", "data": b"x", "size": 1}
    with tenant_context(nayoro) if under_nayoro else contextlib.nullcontext():
        with pytest.raises(ProgrammingError, match="row-level security"), db.session.begin_nested():
            db.session.execute(insert(TenantAsset.__table__).values(**row))


def test_a_row_cannot_be_moved_to_another_city(members, nayoro, kanazawa):
    # The keep_city trigger answers before the policy's WITH CHECK would.
    with tenant_context(nayoro):
        with pytest.raises(IntegrityError, match="never changes city"), db.session.begin_nested():
            db.session.execute(text("UPDATE members SET tenant_id = :other"), {"other": kanazawa.id})


def test_not_even_the_cross_city_role_moves_a_row_to_another_city(members, nayoro, kanazawa):
    """The cross role sees every city to mark rows (the outbox claim); its UPDATE cannot
    change a row's city (the keep_city trigger: a policy cannot compare old and new)."""
    statement = text("UPDATE members SET tenant_id = :other WHERE tenant_id = :own").execution_options(
        all_tenants=True)
    with pytest.raises(IntegrityError, match="never changes city"), db.session.begin_nested():
        db.session.execute(statement, {"other": kanazawa.id, "own": nayoro.id})
    # The same role may still mark rows where they are.
    marked = db.session.execute(text("UPDATE members SET email = email").execution_options(all_tenants=True))
    assert marked.rowcount == 3


def test_cross_city_reads_still_work(members, nayoro, kanazawa):
    """The vendor's figures read every city in one statement (all_tenants: the cross role)."""
    figures = {row.slug: row.members for row in city_figures()}
    assert figures == {"kanazawa": 1, "nayoro": 2}
    # ... and the next statement is back behind the wall.
    assert db.session.execute(text("SELECT count(*) FROM members")).scalar() == 0



def test_the_cross_city_role_deletes_from_the_mail_tables_only(members):
    """The mail retention deletes old mail of every city in one statement per batch (all_tenants);
    every other row is deleted under its own city."""
    deletable = set(db.session.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND has_table_privilege(:role, c.oid, 'DELETE')"),
        {"role": CROSS_ROLE}).scalars())
    assert deletable == set(CROSS_DELETE) == {"mail_outbox", "mail_jobs"}
    statement = text("DELETE FROM members").execution_options(all_tenants=True)
    with pytest.raises(ProgrammingError, match="permission denied"), db.session.begin_nested():
        db.session.execute(statement)
