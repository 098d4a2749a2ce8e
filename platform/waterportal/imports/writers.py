"""Reading existing keys and writing validated rows, per database.

Both paths run on the session's connection, inside the caller's transaction, and put
``tenant_id`` into every statement themselves: these are Core/driver statements, which
the ORM isolation hooks do not see. Before a driver cursor runs, ``set_city_for_driver``
sets PostgreSQL's ``app.tenant_id`` (row security) as SQLAlchemy's own statements do.

* SQLite: ``INSERT ... ON CONFLICT DO UPDATE`` with ``executemany`` in chunks. Values are
  passed as the driver takes them (dates as ``YYYY-MM-DD`` text, timestamps as SQLAlchemy's
  SQLite text format), which skips per-value type processing: 2.4x faster than
  ``insert()`` with a list of dicts, and the ORM reads the rows back as dates.
* PostgreSQL: ``COPY`` into a temporary staging table through psycopg 3, then one
  ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from waterportal.imports.validation import BILL_VALUES, CONTRACT_VALUES
from waterportal.tenancy.row_security import set_city_for_driver

Progress = Callable[[int], None]

BILL_KEY = ("tenant_id", "contract_id", "billing_month")
CONTRACT_KEY = ("tenant_id", "customer_number")
BILL_DATES = ("period_start", "period_end", "reading_date", "due_date", "paid_on")


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _check_dialect(conn: Connection) -> None:
    if conn.dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"imports support SQLite and PostgreSQL, not {conn.dialect.name}")


def _select_sql(conn: Connection, table: str, columns: Sequence[str], dates: Sequence[str] = ()) -> str:
    """SELECT of ``columns`` with dates as ISO text and booleans as 0/1 on either database."""
    out = []
    for name in columns:
        if _is_postgres(conn) and name in dates:
            out.append(f"to_char({name}, 'YYYY-MM-DD')")
        elif _is_postgres(conn) and name == "meter_exchanged":
            out.append(f"{name}::int")
        else:
            out.append(name)
    mark = "%s" if _is_postgres(conn) else "?"
    return f"SELECT {', '.join(out)} FROM {table} WHERE tenant_id = {mark}"


def _fetch(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    # The DB-API cursor hands back plain tuples: for 100,000 bills that is 4x quicker than
    # SQLAlchemy Row objects, and the comparison in services wants tuples anyway.
    set_city_for_driver(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def load_contract_ids(conn: Connection, tenant_id: int) -> dict[str, int]:
    """This city's customer numbers -> contract ids."""
    sql = _select_sql(conn, "contracts", ("customer_number", "id"))
    return dict(_fetch(conn, sql, (tenant_id,)))


def load_contracts(conn: Connection, tenant_id: int) -> dict[str, tuple[Any, ...]]:
    """This city's contracts: customer number -> values in CONTRACT_VALUES order."""
    sql = _select_sql(conn, "contracts", ("customer_number", *CONTRACT_VALUES))
    return {row[0]: row[1:] for row in _fetch(conn, sql, (tenant_id,))}


def load_bills(conn: Connection, tenant_id: int, months: Iterable[str]) -> dict[tuple[int, str], tuple[Any, ...]]:
    """This city's bills of ``months``: (contract_id, billing_month) -> values in BILL_VALUES order."""
    months = sorted(set(months))
    if not months:
        return {}
    sql = _select_sql(conn, "bills", ("contract_id", "billing_month", *BILL_VALUES), BILL_DATES)
    params: tuple[Any, ...] = (tenant_id,)
    if len(months) <= 500:  # a monthly file reads one month, not the city's whole history
        mark = "%s" if _is_postgres(conn) else "?"
        sql += f" AND billing_month IN ({', '.join([mark] * len(months))})"
        params += tuple(months)
    return {(row[0], row[1]): row[2:] for row in _fetch(conn, sql, params)}


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str], keep: Sequence[str] = ()) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key and c not in keep)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def _sqlite_stamp(moment: dt.datetime) -> str:
    # SQLAlchemy's storage format for DateTime on SQLite, so the ORM reads it back.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _executemany(conn: Connection, sql: str, rows: list[tuple[Any, ...]], chunk: int,
                 progress: Progress | None) -> None:
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        conn.exec_driver_sql(sql, part)
        if progress:
            progress(len(part))


def _copy_upsert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]],
                 key: Sequence[str], extra: dict[str, Any], keep: Sequence[str], chunk: int,
                 progress: Progress | None, after: tuple[str, tuple[Any, ...]] | None = None) -> None:
    """COPY ``rows`` into a temp table shaped like ``table``, then upsert them in one statement.

    ``extra`` are constant columns (tenant_id, timestamps) added by the INSERT ... SELECT;
    ``keep`` are columns an update leaves alone; ``after`` (sql, params) runs while the stage
    still exists (``{stage}`` in the sql names it).
    """
    stage = f"import_stage_{table}"
    names = ", ".join(columns)
    target = [*extra, *columns]
    updates = ", ".join(f"{c} = excluded.{c}" for c in target if c not in key and c not in keep)
    set_city_for_driver(conn)
    driver = conn.connection.driver_connection
    with driver.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for number, row in enumerate(rows, 1):
                copy.write_row(row)
                if progress and number % chunk == 0:
                    progress(chunk)
        cur.execute(
            f"INSERT INTO {table} ({', '.join(target)}) "
            f"SELECT {', '.join(['%s'] * len(extra))}, {names} FROM {stage} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            tuple(extra.values()),
        )
        if after:
            cur.execute(after[0].format(stage=stage), after[1])
        cur.execute(f"DROP TABLE {stage}")  # ON COMMIT DROP alone would clash on a 2nd import per transaction
    if progress and len(rows) % chunk:
        progress(len(rows) % chunk)


def write_contracts(conn: Connection, tenant_id: int, rows: list[tuple[Any, ...]], now: dt.datetime,
                    chunk: int, progress: Progress | None = None) -> None:
    """Upsert contracts ``(customer_number, *CONTRACT_VALUES)``; stamp data_updated_at."""
    _check_dialect(conn)
    if not rows:
        return
    columns = ("customer_number", *CONTRACT_VALUES)
    if _is_postgres(conn):
        extra = {"tenant_id": tenant_id, "created_at": now, "data_updated_at": now}
        _copy_upsert(conn, "contracts", columns, rows, CONTRACT_KEY, extra, ("created_at",), chunk, progress)
        return
    stamp = _sqlite_stamp(now)
    sql = _upsert_sql("contracts", ("tenant_id", *columns, "created_at", "data_updated_at"), CONTRACT_KEY,
                      keep=("created_at",))
    _executemany(conn, sql, [(tenant_id, *row, stamp, stamp) for row in rows], chunk, progress)


def write_bills(conn: Connection, tenant_id: int, rows: list[tuple[Any, ...]], now: dt.datetime,
                chunk: int, progress: Progress | None = None) -> None:
    """Upsert bills ``(contract_id, billing_month, *BILL_VALUES)``; stamp their contracts' data_updated_at."""
    _check_dialect(conn)
    if not rows:
        return
    columns = ("contract_id", "billing_month", *BILL_VALUES)
    if _is_postgres(conn):
        touch = ("UPDATE contracts SET data_updated_at = %s WHERE tenant_id = %s "
                 "AND id IN (SELECT contract_id FROM {stage})")
        extra = {"tenant_id": tenant_id, "updated_at": now}
        _copy_upsert(conn, "bills", columns, rows, BILL_KEY, extra, (), chunk, progress,
                     after=(touch, (now, tenant_id)))
        return
    stamp = _sqlite_stamp(now)
    sql = _upsert_sql("bills", ("tenant_id", *columns, "updated_at"), BILL_KEY)
    _executemany(conn, sql, [(tenant_id, *row, stamp) for row in rows], chunk, progress)
    touched = sorted({row[0] for row in rows})
    conn.exec_driver_sql("UPDATE contracts SET data_updated_at = ? WHERE tenant_id = ? AND id = ?",
                         [(stamp, tenant_id, contract_id) for contract_id in touched])
