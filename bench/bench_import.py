"""Benchmark of the bills import against the floor of the same database.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--months 24] [--postgres URL]

Generates contracts and ``--rows`` bills (bench/gen_billing.py), loads the contracts into
a fresh database with Nayoro applied, clones that database as the baseline, then times:

* ``first``: import_bills of the whole file (all inserted) + commit;
* ``again``: the same file again (all unchanged) + commit;
* ``paid``: the file with every unpaid bill now paid (those rows updated) + commit;
* ``baseline``: the same rows, parsed beforehand, written by the bare driver into the clone
  (sqlite3 ``executemany`` of INSERT, or psycopg ``COPY``) + commit: the floor.

``--rounds`` times (bills emptied in between) and prints the best of each with rows/s and
its ratio to the baseline (``import/baseline = x.x``). Best-of, because the machine is
shared and a slow round says more about the neighbours than about the code.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from gen_billing import BILL_HEADER, generate, write_csv
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from waterportal.app import create_app
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy.registry import get_registry

BILL_COLUMNS = ("tenant_id", "contract_id", "billing_month", "period_start", "period_end", "reading_date",
                "previous_reading", "current_reading", "usage_m3", "meter_exchanged", "water_charge",
                "sewer_charge", "tax", "total", "due_date", "paid_on", "updated_at")


def timed(label: str, func, rows: int, results: dict[str, list[float]]):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.setdefault(label, []).append(seconds)
    print(f"  {label:9s} {seconds:7.3f} s  {rows / seconds:>9,.0f} rows/s", flush=True)
    return value


def preparsed(path: Path, tenant_id: int, contract_ids: dict[str, int], sqlite: bool) -> list[tuple]:
    """The file's rows as the driver takes them (outside the timing)."""
    stamp = dt.datetime(2026, 11, 1, 9, 0)
    stamp_value = stamp.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else stamp
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            out.append((tenant_id, contract_ids[r[0]], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]),
                        0, int(r[8]), int(r[9]), int(r[10]), int(r[11]), r[12], r[13] or None, stamp_value))
    return out


def make_app(url: str):
    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR)})


def run_import(app, path: Path, kind: str):
    with app.app_context():
        tenant = get_registry().by_slug("nayoro")
        service = import_bills if kind == "bills" else import_contracts
        result = service(tenant, path, actor="bench")
        db.session.commit()
        assert result.ok, result.errors[:5]
        return result


def setup(url: str, contracts: Path) -> tuple[int, dict[str, int]]:
    app = make_app(url)
    with app.app_context():
        db.create_all()
        apply_definition(read_definition(TENANTS_DIR / "nayoro"))
        db.session.commit()
    result = run_import(app, contracts, "contracts")
    print(f"contracts {result.summary()}")
    with app.app_context():
        tenant_id = get_registry().by_slug("nayoro").id
        ids = dict(db.session.execute(text("SELECT customer_number, id FROM contracts")).all())
        db.session.remove()
        db.engine.dispose()  # no connection may stay open: PostgreSQL clones the database next
    return tenant_id, ids


def paid_version(source: Path, target: Path) -> int:
    """A copy of the bills file where the unpaid bills are paid on their due date."""
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    changed = 0
    for row in rows:
        if not row[13]:
            row[13] = row[12]
            changed += 1
    write_csv(target, BILL_HEADER, rows)
    return changed


def clear_bills(app, baseline_url: str) -> None:
    """Empty the bills of both databases so the next round starts like the first."""
    with app.app_context():
        db.session.execute(text("DELETE FROM bills"))
        db.session.commit()
    engine = create_engine(baseline_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM bills"))
    engine.dispose()


def bench(url: str, baseline_url: str, clone, tmp: Path, rows: int, months: int, rounds: int) -> None:
    contracts, bills = generate(tmp, rows, digits=11, months=months)
    paid_file = tmp / "bills-paid.csv"
    changed = paid_version(bills, paid_file)
    tenant_id, ids = setup(url, contracts)
    clone()
    sqlite = url.startswith("sqlite")
    tuples = preparsed(bills, tenant_id, ids, sqlite)
    app = make_app(url)
    results: dict[str, list[float]] = {}
    for number in range(1, rounds + 1):
        print(f"round {number}")
        if number > 1:
            clear_bills(app, baseline_url)
        first = timed("first", lambda: run_import(app, bills, "bills"), rows, results)
        assert first.inserted == rows, first.summary()
        print(f"            {first.summary()}  phases {first.timings}")
        again = timed("again", lambda: run_import(app, bills, "bills"), rows, results)
        assert again.unchanged == rows, again.summary()
        print(f"            {again.summary()}  phases {again.timings}")
        paid = timed("paid", lambda: run_import(app, paid_file, "bills"), rows, results)
        assert paid.updated == changed, paid.summary()
        print(f"            {paid.summary()}")
        timed("baseline", lambda: baseline(baseline_url, tuples, sqlite), rows, results)
    best = {label: min(times) for label, times in results.items()}
    print(f"best of {rounds} rounds:")
    for label in ("first", "again", "paid", "baseline"):
        print(f"  {label:9s} {best[label]:7.3f} s  {rows / best[label]:>9,.0f} rows/s")
    for label in ("first", "again", "paid"):
        print(f"import/baseline = {best[label] / best['baseline']:.1f}  ({label})")
    with app.app_context():
        db.engine.dispose()


def baseline(url: str, tuples: list[tuple], sqlite: bool) -> None:
    columns = ", ".join(BILL_COLUMNS)
    if sqlite:
        conn = sqlite3.connect(make_url(url).database, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO bills ({columns}) VALUES ({', '.join('?' * len(BILL_COLUMNS))})", tuples)
        conn.execute("COMMIT")
        conn.close()
        return
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(f"COPY bills ({columns}) FROM STDIN") as copy:
        for row in tuples:
            copy.write_row(row)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the bills import against a bare-driver baseline.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3, help="repeat and report the best of each (default 3)")
    parser.add_argument("--postgres", metavar="URL", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.postgres:
            url, copy_url = f"sqlite:///{tmp / 'bench.sqlite3'}", f"sqlite:///{tmp / 'baseline.sqlite3'}"

            def clone() -> None:
                with sqlite3.connect(tmp / "bench.sqlite3") as src, sqlite3.connect(tmp / "baseline.sqlite3") as dst:
                    src.backup(dst)

            print(f"SQLite {sqlite3.sqlite_version}, {args.rows:,} bills, {args.months} months")
            bench(url, copy_url, clone, tmp, args.rows, args.months, args.rounds)
            return
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"bench_import_{uuid.uuid4().hex[:8]}"
        base = make_url(args.postgres)
        url = base.set(database=name).render_as_string(hide_password=False)
        copy_url = base.set(database=name + "_base").render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            version = conn.execute(text("SHOW server_version")).scalar()

        def clone_pg() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}_base" TEMPLATE "{name}"'))

        print(f"PostgreSQL {version}, {args.rows:,} bills, {args.months} months")
        try:
            bench(url, copy_url, clone_pg, tmp, args.rows, args.months, args.rounds)
        finally:
            with admin.connect() as conn:
                for db_name in (name, name + "_base"):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
