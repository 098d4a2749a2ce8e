"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tests.conftest import _postgres_database, make_config
from tests.tenancy.test_row_security import unprotected_tables
from waterportal.app import create_app
from waterportal.extensions import db


def _fresh_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        return _postgres_database(base, f"mig{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    return f"sqlite:///{tmp_path / 'migrations.sqlite3'}", lambda: None


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(tmp_path):
    url, drop = _fresh_url(tmp_path)
    app = create_app(make_config(url))
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diffs == [], "models and migrations differ; run `flask --app wsgi db migrate`"
            assert "members" in inspect(db.engine).get_table_names()
            # The expression index autogenerate cannot compare is checked by name.
            with db.engine.connect() as conn:
                if db.engine.dialect.name == "sqlite":  # SQLite reflection skips expression indexes
                    sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'members'"
                else:
                    sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'members'"
                member_indexes = set(conn.exec_driver_sql(sql).scalars())
            assert "uq_members_tenant_login_id_lower" in member_indexes
            if db.engine.dialect.name == "postgresql":  # row security on every city-owned table
                with db.engine.connect() as conn:
                    assert unprotected_tables(conn) == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        drop()


def test_flask_db_upgrade_builds_an_empty_database_from_the_command_line(tmp_path):
    """The documented command, as an operator runs it: ``flask --app wsgi db upgrade``."""
    db_file = tmp_path / "fresh.sqlite3"
    env = {"PATH": "/usr/bin:/bin", "WATERPORTAL_INSTANCE_PATH": str(tmp_path),
           "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                         cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(db_file) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables >= {"alembic_version", "tenants", "tenant_hosts", "contracts", "bills", "members",
                      "member_contracts", "notices", "mail_outbox", "import_batches", "audit_log"}
    assert tables == {t for t in db.metadata.tables} | {"alembic_version"}
