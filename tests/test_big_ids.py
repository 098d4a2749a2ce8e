"""64-bit ids (core/ids.py, migration b2f7d9e4a6c8): which columns are BIGINT on PostgreSQL,
pinned here, in the models and in a database built by the migrations; everything else stays
INTEGER; SQLite keeps its rowid keys."""
from __future__ import annotations

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import Integer
from sqlalchemy.dialects import postgresql, sqlite

from tests.conftest import _postgres_database, make_config, postgres_only
from waterportal.app import create_app
from waterportal.extensions import db

# Tables whose ids grow per contract per period, per import row, per mail, per login or per code.
BIG_KEYS = {
    "contracts", "bills", "bill_documents", "bill_alerts", "payment_proofs", "documents", "meter_readings",
    "mail_outbox", "audit_log", "member_sessions", "staff_sessions", "vendor_sessions", "verification_codes",
    "registration_drafts",
}
# The columns holding one of those ids.
BIG_HOLDERS = {
    ("bills", "contract_id"), ("bill_documents", "bill_id"), ("bill_documents", "contract_id"),
    ("bill_alerts", "bill_id"), ("bill_alerts", "contract_id"), ("payment_proofs", "contract_id"),
    ("documents", "contract_id"), ("meter_readings", "contract_id"), ("watches", "contract_id"),
    ("member_contracts", "contract_id"), ("registration_drafts", "contract_id"),
    ("procedure_requests", "contract_id"), ("mail_jobs", "ref_id"),
}
BIG = {(table, "id") for table in BIG_KEYS} | BIG_HOLDERS
MIGRATION = "b2f7d9e4a6c8"


def _id_columns():
    """Every id and every integer column that holds an id (``*_id``, mail_jobs.ref_id), by the models."""
    for table in db.metadata.sorted_tables:
        for column in table.c:
            if column.name == "id" or column.name.endswith("_id") or (table.name, column.name) in BIG:
                if isinstance(column.type.dialect_impl(sqlite.dialect()), Integer):
                    yield table.name, column


def test_the_models_make_exactly_these_columns_bigint_on_postgresql_and_integer_on_sqlite(app):
    big = set()
    for table, column in _id_columns():
        on_postgres = column.type.compile(dialect=postgresql.dialect())
        on_sqlite = column.type.compile(dialect=sqlite.dialect())
        assert on_sqlite == "INTEGER", (table, column.name)  # the rowid alias stays one
        assert on_postgres in ("BIGINT", "INTEGER"), (table, column.name)
        if on_postgres == "BIGINT":
            big.add((table, column.name))
    assert big == BIG
    # The foreign keys' two sides have the same type.
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            a = fk.parent.type.compile(dialect=postgresql.dialect())
            b = fk.column.type.compile(dialect=postgresql.dialect())
            assert a == b, (table.name, fk.parent.name, fk.target_fullname)


def test_sqlite_keys_stay_the_rowid(app_ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: runs in the SQLite pass (env -u TEST_DATABASE_URL; make test runs both)")
    schema = db.session.connection().exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'bills'").scalar()
    assert "id INTEGER NOT NULL" in schema and "BIGINT" not in schema


@postgres_only
def test_the_migrations_make_them_bigint_and_the_downgrade_integer_again():
    url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"], f"big{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    app = create_app(make_config(url))
    try:
        with app.app_context():
            upgrade()
            assert _types() == dict.fromkeys(BIG, "bigint")
            assert _sequence_types() == dict.fromkeys(BIG_KEYS, "bigint")
            with db.engine.connect() as conn:  # the other ids stay integer
                others = conn.exec_driver_sql(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND (column_name = 'id' OR right(column_name, 3) = '_id')").all()
            assert {(t, c) for t, c, kind in others if kind == "bigint"} == BIG

            downgrade(revision=f"{MIGRATION}-1")
            assert set(_types().values()) == {"integer"}
            assert set(_sequence_types().values()) == {"integer"}
            upgrade()
            with db.engine.begin() as conn:  # past 2**31, as the app's inserts draw them
                for table in ("contracts", "bills", "mail_outbox", "meter_readings"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 2999999999)")
                    assert conn.exec_driver_sql(
                        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))").scalar() == 3_000_000_000
            db.engine.dispose()
    finally:
        drop()


def _types() -> dict[tuple[str, str], str]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
        ).all()
    return {(t, c): kind for t, c, kind in rows if (t, c) in BIG}


def _sequence_types() -> dict[str, str]:
    with db.engine.connect() as conn:
        return {table: conn.exec_driver_sql(
            f"SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = "
            f"pg_get_serial_sequence('{table}', 'id')::regclass").scalar() for table in BIG_KEYS}

