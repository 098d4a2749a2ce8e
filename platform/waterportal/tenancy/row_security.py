"""PostgreSQL row-level security: the database's own wall behind the ORM's tenant filter.

The ORM hooks in :mod:`waterportal.tenancy.isolation` scope every query to the current
city; a forgotten filter, a raw SQL statement or a bulk writer on a DB-API cursor would
slip past them. On PostgreSQL every city-owned table therefore also has a policy::

    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer)
    WITH CHECK (the same)

and the app connects as :data:`APP_ROLE`, which owns no table and is no superuser, so the
policies apply to it. :func:`install_row_security` sets ``app.tenant_id`` with
``set_config(..., true)`` (``SET LOCAL``: it ends with the transaction, so it is set again
in the next one) from :func:`~waterportal.tenancy.context.current_tenant_or_none`:

* when a transaction or savepoint begins, so raw DB-API cursors (the importers' COPY) run
  under the city too;
* before every statement whose city differs from the one set in this transaction (the
  outbox sender claims a row of any city, then marks it under that row's city).

Without a city the setting is empty and every city-owned table looks empty. Statements
marked ``execution_options(all_tenants=True)`` (the vendor's reads across cities, the
outbox claim) run as :data:`CROSS_ROLE` (``SET LOCAL ROLE``), the only role a
``cross_city`` policy lets see every city; it may SELECT and UPDATE, never INSERT, and
DELETE only from the tables in :data:`CROSS_DELETE`. docs/architecture.md says why a role
rather than a bypass setting.

:func:`apply_row_security` creates the roles, grants and policies; the Alembic migration
and the PostgreSQL test set-up both call it. SQLite has no row security: it is a no-op there.
"""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from waterportal.tenancy.context import current_tenant_or_none

APP_ROLE = "waterportal_app"
CROSS_ROLE = "waterportal_cross"
SETTING = "app.tenant_id"
POLICY = "tenant_isolation"
CROSS_POLICY = "cross_city"
# Tables with a tenant_id column that stay readable without a city, and why.
EXEMPT = {
    "tenant_hosts": "read to find the city of a request's Host, before there is a city",
}
# The only tables the cross role may DELETE from, and why (every other row is deleted under its city).
CROSS_DELETE = {
    "mail_outbox": "the mail retention deletes old sent/failed mails of every city in batches (mail/retention.py)",
    "mail_jobs": "the mail retention deletes finished fan-out jobs of every city with them",
}

_CAN_CROSS = "waterportal_rls_cross"  # the login role may SET ROLE to the cross role
_STATE = "waterportal_rls"  # key in the DB-API connection's info: (tenant id, role) set in this transaction
_UNKNOWN = object()
_BASELINE = ("", "none")  # what a fresh transaction has: no city, the login role
_CONNECT_SQL = """
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) THEN pg_has_role(%s, 'MEMBER') ELSE false END,
       (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user)
"""
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
_warned: list[bool] = []
log = logging.getLogger("waterportal.tenancy")


# ---- the schema side: roles, grants, policies ----------------------------------------

# Module constants only, no input, hence the noqa.
_ROLES_SQL = f"""
DO $$
BEGIN
  -- Roles are cluster-wide: several databases (or test workers) may race to create them.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    BEGIN
      CREATE ROLE {APP_ROLE} LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{CROSS_ROLE}') THEN
    BEGIN
      CREATE ROLE {CROSS_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  -- NOINHERIT: the app role holds the cross role's policy only after SET ROLE, never by default.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}' AND rolinherit) THEN
    ALTER ROLE {APP_ROLE} NOINHERIT;
  END IF;
  IF NOT pg_has_role('{APP_ROLE}', '{CROSS_ROLE}', 'MEMBER') THEN
    BEGIN
      GRANT {CROSS_ROLE} TO {APP_ROLE};
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END
$$"""  # noqa: S608

_TENANT_COLUMNS_SQL = """
SELECT c.relname, format_type(a.atttypid, a.atttypmod)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
ORDER BY c.relname
"""


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def tenant_tables(conn: Connection) -> dict[str, str]:
    """The tables of the current schema with a ``tenant_id`` column (but :data:`EXEMPT`) -> its type."""
    rows = conn.exec_driver_sql(_TENANT_COLUMNS_SQL).all()
    return {name: type_ for name, type_ in rows if name not in EXEMPT}


# Policies cannot compare a row's old and new city, and the cross role's policy lets it see
# (and so UPDATE) every city's rows: this trigger keeps a row in its city for every role.
# The percent signs are doubled because psycopg reads a single one as a query parameter;
# plpgsql's RAISE then receives single ones as its format placeholders.
_KEEP_CITY_FUNCTION = """
CREATE OR REPLACE FUNCTION waterportal_keep_city() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
        RAISE EXCEPTION 'a row never changes city (%%: %% -> %%)', TG_TABLE_NAME, OLD.tenant_id, NEW.tenant_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$
"""
KEEP_CITY_TRIGGER = "keep_city"


def apply_row_security(conn: Connection) -> list[str]:
    """Create the roles, grant them the tables, and put the tenant policy on every city-owned
    table of the current schema. Idempotent; run by the table owner (``flask db upgrade``).
    Returns the tables it protects; a no-op (``[]``) on anything but PostgreSQL.

    Tables are found by their ``tenant_id`` column in the database itself, so a migration
    that adds a table and calls this again cannot leave the new table out.
    """
    if conn.dialect.name != "postgresql":
        return []
    conn.exec_driver_sql(_ROLES_SQL)
    schema = _quote(conn, conn.exec_driver_sql("SELECT current_schema()").scalar_one())
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {APP_ROLE}, {CROSS_ROLE}")
    conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {APP_ROLE}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {APP_ROLE}")
    # Reads across cities and marking rows (the outbox claim, ending a vendor's sessions);
    # a row is only ever inserted or deleted under its own city.
    conn.exec_driver_sql(f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA {schema} TO {CROSS_ROLE}")
    for name in CROSS_DELETE:
        if conn.exec_driver_sql(f"SELECT to_regclass('{name}')").scalar() is not None:
            conn.exec_driver_sql(f"GRANT DELETE ON {_quote(conn, name)} TO {CROSS_ROLE}")
    if conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is not None:
        conn.exec_driver_sql(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}, {CROSS_ROLE}")
    conn.exec_driver_sql(_KEEP_CITY_FUNCTION)
    tables = tenant_tables(conn)
    for name, type_ in tables.items():
        table = _quote(conn, name)
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {KEEP_CITY_TRIGGER} ON {table}")
        conn.exec_driver_sql(f"CREATE TRIGGER {KEEP_CITY_TRIGGER} BEFORE UPDATE OF tenant_id ON {table} "
                             "FOR EACH ROW EXECUTE FUNCTION waterportal_keep_city()")
        same_city = f"tenant_id = NULLIF(current_setting('{SETTING}', true), '')::{type_}"
        conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        conn.exec_driver_sql(f"CREATE POLICY {POLICY} ON {table} USING ({same_city}) WITH CHECK ({same_city})")
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {CROSS_POLICY} ON {table}")
        conn.exec_driver_sql(f"CREATE POLICY {CROSS_POLICY} ON {table} TO {CROSS_ROLE} USING (true)")
    return sorted(tables)


def remove_row_security(conn: Connection) -> None:
    """Drop the policies and switch row security off (the migration's downgrade).

    The roles stay: they are cluster-wide and other databases may use them.
    """
    if conn.dialect.name != "postgresql":
        return
    for name in tenant_tables(conn):
        table = _quote(conn, name)
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {CROSS_POLICY} ON {table}")
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {KEEP_CITY_TRIGGER} ON {table}")
        conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS waterportal_keep_city()")


# ---- the connection side: app.tenant_id and the role, per transaction ------------------

def _wanted(info: dict, all_tenants: bool) -> tuple[str, str]:
    tenant = current_tenant_or_none()
    cross = all_tenants and info.get(_CAN_CROSS, False)
    return ("" if tenant is None else str(tenant.id), CROSS_ROLE if cross else "none")


def _apply(dbapi_connection, info: dict, wanted: tuple[str, str]) -> None:
    if info.get(_STATE, _UNKNOWN) == wanted:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SELECT set_config('{SETTING}', %s, true), set_config('role', %s, true)", wanted)
    finally:
        cursor.close()
    info[_STATE] = wanted


def _on_connect(dbapi_connection, record) -> None:
    # Only a member of the cross role switches to it for all_tenants statements.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_CONNECT_SQL, (CROSS_ROLE, CROSS_ROLE))
        exists_and_member, bypasses = cursor.fetchone()
    finally:
        cursor.close()
        dbapi_connection.rollback()
    # A superuser skips the policies anyway; switching it to the cross role would only
    # lose it the tables of a database built without apply_row_security (create_all).
    record.info[_CAN_CROSS] = bool(exists_and_member) and not bypasses
    if bypasses and not _warned:
        _warned.append(True)
        log.warning("connected to PostgreSQL as a superuser or BYPASSRLS role: row-level security does not "
                    "apply; connect as %s (docs/operations.md)", APP_ROLE)


def _apply_in_event(conn: Connection) -> None:
    # SQLAlchemy does not wrap what a begin or savepoint hook raises: a connection that died
    # in the pool (no pre-ping, config/default.toml) would surface as the driver's bare error
    # (a 500, the dead connection kept). Hand it to SQLAlchemy's own handling instead: a
    # disconnect invalidates the pool and becomes the DBAPIError the 503 page answers.
    try:
        _apply(conn.connection.dbapi_connection, conn.info, _wanted(conn.info, False))
    except conn.dialect.loaded_dbapi.Error as exc:
        conn._handle_dbapi_exception(exc, "SELECT set_config(...)", (), None, None)


def _on_begin(conn: Connection) -> None:
    # A new transaction starts from the city of the code that opens it.
    conn.info[_STATE] = _BASELINE
    _apply_in_event(conn)


def _on_savepoint(conn: Connection, _name) -> None:
    _apply_in_event(conn)


def _before_cursor_execute(conn: Connection, _cursor, statement, _parameters, context, _executemany) -> None:
    if statement.startswith(_TRANSACTION_CONTROL):
        return  # SAVEPOINT and its kin: ROLLBACK TO must run even in an aborted transaction
    options = context.execution_options if context is not None else {}
    _apply(conn.connection.dbapi_connection, conn.info, _wanted(conn.info, bool(options.get("all_tenants"))))


def _forget(conn: Connection, *_args) -> None:
    # After COMMIT / ROLLBACK the SET LOCALs are gone; after ROLLBACK TO SAVEPOINT they are
    # whatever they were before it: set them again at the next statement.
    conn.info[_STATE] = _UNKNOWN


def _forget_on_checkin(_dbapi_connection, record) -> None:
    record.info.pop(_STATE, None)


def set_city_for_driver(conn: Connection) -> None:
    """Set this transaction's city on ``conn`` before DB-API cursor work (COPY) that the
    statement hook cannot see. A no-op on SQLite and on engines without the hooks."""
    if event.contains(conn.engine, "before_cursor_execute", _before_cursor_execute):
        _apply(conn.connection.dbapi_connection, conn.info, _wanted(conn.info, False))


def install_row_security(engine: Engine) -> None:
    """Attach the hooks that set ``app.tenant_id`` (and the role) to a PostgreSQL engine."""
    if engine.dialect.name != "postgresql" or event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "savepoint", _on_savepoint)
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    event.listen(engine.pool, "checkin", _forget_on_checkin)
