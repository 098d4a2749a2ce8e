"""Benchmark of the bills import against the floor of the same database, with its peak memory.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--months 24] [--rounds 3]
    .venv/bin/python bench/bench_import.py --postgres URL --rows 100000,1000000

For each size in ``--rows``: generates contracts and bills (bench/gen_billing.py, streamed to
disk), loads the contracts into a fresh database with Nayoro applied, clones that database
for the baseline, then times, each import in a child process (its ``ru_maxrss`` is the peak
RSS of an import, the app included; /proc's VmHWM):

* ``first``: import_bills of the whole file (all inserted) + commit;
* ``again``: the same file again (all unchanged, nothing written) + commit;
* ``paid``: the file with every unpaid bill now paid (those rows updated) + commit;
* ``baseline`` / ``baseline again``: the same file written into the clone by the bare
  database, twice. PostgreSQL: ``COPY`` of the CSV file into a staging table and one
  ``INSERT ... SELECT ... JOIN contracts ... ON CONFLICT DO UPDATE``; SQLite: the rows,
  parsed beforehand, by sqlite3 ``executemany`` of ``INSERT ... ON CONFLICT DO UPDATE``.
  Each + commit. No checking, no comparing: the floor.

``--rounds`` times (bills emptied in between); the best of each (the machine is shared).
Ratios are baseline seconds / import seconds (1.0 = as fast as the floor). The dated rows go
into docs/performance.md (``--doc ''``: not written); ``--smoke`` is a toy run for make test.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import resource
import sqlite3
import subprocess
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

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench_import -->", "<!-- /bench_import -->"
VALUES = ("period_start", "period_end", "reading_date", "previous_reading", "current_reading", "usage_m3",
          "meter_exchanged", "water_charge", "sewer_charge", "tax", "total", "due_date", "paid_on")
BILL_COLUMNS = ("tenant_id", "contract_id", "billing_month", *VALUES, "updated_at")
# Targets of issue 10: (database, figure) -> lowest ratio; peak RSS below this many MB.
TARGETS = {("PostgreSQL", "first"): 0.8, ("PostgreSQL", "again"): 0.9, ("SQLite", "first"): 0.5}
RSS_TARGET_MB = 200


def make_app(url: str):
    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR)})


def _rss_mb() -> float:
    """This process's peak RSS in MB. /proc's VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec from the forking parent (which holds the baseline's parsed rows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux, elsewhere a guess


def child(url: str, kind: str, path: str) -> None:
    """Run one import in this (fresh) process; print seconds, counts and peak RSS as JSON."""
    app = make_app(url)
    with app.app_context():
        tenant = get_registry().by_slug("nayoro")
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        before = _rss_mb()
        service = import_bills if kind == "bills" else import_contracts
        start = time.perf_counter()
        result = service(tenant, Path(path), actor="bench")
        db.session.commit()
        seconds = time.perf_counter() - start
        db.engine.dispose()
    print(json.dumps({"seconds": seconds, "ok": result.ok, "errors": [str(e) for e in result.errors[:5]],
                      "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged,
                      "summary": result.summary(), "timings": result.timings,
                      "rss_before_mb": before, "rss_peak_mb": _rss_mb()}))


def run_import(url: str, path: Path, kind: str = "bills") -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", url, kind, str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"import child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], result["errors"]
    return result


def setup(url: str, contracts: Path) -> int:
    app = make_app(url)
    with app.app_context():
        db.create_all()
        apply_definition(read_definition(TENANTS_DIR / "nayoro"))
        db.session.commit()
        tenant_id = get_registry().by_slug("nayoro").id
        db.session.remove()
        db.engine.dispose()
    print(f"contracts {run_import(url, contracts, 'contracts')['summary']}")
    return tenant_id


def paid_version(source: Path, target: Path) -> int:
    """A copy of the bills file where the unpaid bills are paid on their due date (streamed)."""
    changed = 0

    def rows():
        nonlocal changed
        with open(source, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for row in reader:
                if not row[13]:
                    row[13] = row[12]
                    changed += 1
                yield row

    write_csv(target, BILL_HEADER, rows())
    return changed


def clear_bills(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM bills"))
    engine.dispose()


def preparsed(url: str, path: Path, tenant_id: int) -> list[tuple]:
    """SQLite baseline: the file's rows as the driver takes them (outside the timing)."""
    conn = sqlite3.connect(make_url(url).database)
    ids = dict(conn.execute("SELECT customer_number, id FROM contracts"))
    conn.close()
    stamp = "2026-11-01 09:00:00.000000"
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            out.append((tenant_id, ids[r[0]], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), 0,
                        int(r[8]), int(r[9]), int(r[10]), int(r[11]), r[12], r[13] or None, stamp))
    return out


def _updates(columns) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns)


def baseline_sqlite(url: str, tuples: list[tuple]) -> None:
    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO bills ({', '.join(BILL_COLUMNS)}) VALUES ({', '.join('?' * len(BILL_COLUMNS))}) "
                     f"ON CONFLICT (tenant_id, contract_id, billing_month) DO UPDATE SET "
                     f"{_updates((*VALUES, 'updated_at'))}", tuples)
    conn.execute("COMMIT")
    conn.close()


def baseline_postgres(url: str, path: Path, tenant_id: int) -> None:
    csv_columns = [c for c in BILL_HEADER]
    stage_types = {"customer_number": "text", "billing_month": "text"}
    columns = ", ".join(f"{c} {stage_types.get(c, 'date' if c.endswith(('_date', '_start', '_end', '_on')) else 'int')}"
                        for c in csv_columns)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE stage ({columns}) ON COMMIT DROP")
        with cur.copy("COPY stage FROM STDIN (FORMAT csv, HEADER true)") as copy, open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
        values = [c for c in VALUES if c != "meter_exchanged"]
        cur.execute(
            f"INSERT INTO bills ({', '.join(BILL_COLUMNS)}) "
            f"SELECT %s, c.id, s.billing_month, {', '.join('s.' + c for c in values[:6])}, false, "
            f"{', '.join('s.' + c for c in values[6:])}, now() FROM stage s "
            "JOIN contracts c ON c.tenant_id = %s AND c.customer_number = s.customer_number "
            f"ON CONFLICT (tenant_id, contract_id, billing_month) DO UPDATE SET {_updates((*VALUES, 'updated_at'))}",
            (tenant_id, tenant_id))


def timed(label: str, func, rows: int, results: dict[str, list[float]]) -> None:
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    results.setdefault(label, []).append(seconds)
    print(f"  {label:15s} {seconds:8.3f} s  {rows / seconds:>9,.0f} rows/s", flush=True)


def imported(label: str, url: str, path: Path, rows: int, results: dict[str, list[float]],
             peaks: dict[str, float]) -> dict:
    result = run_import(url, path)
    results.setdefault(label, []).append(result["seconds"])
    peaks[label] = max(peaks.get(label, 0.0), result["rss_peak_mb"])
    peaks["app"] = result["rss_before_mb"]
    print(f"  {label:15s} {result['seconds']:8.3f} s  {rows / result['seconds']:>9,.0f} rows/s  "
          f"peak RSS {result['rss_peak_mb']:.0f} MB (app before the import {result['rss_before_mb']:.0f} MB)  "
          f"{result['summary']}  {result['timings']}", flush=True)
    return result


def bench(database: str, url: str, baseline_url: str, clone, tmp: Path, rows: int, months: int,
          rounds: int) -> list[tuple]:
    contracts, bills = generate(tmp, rows, digits=11, months=months)
    paid_file = tmp / "bills-paid.csv"
    changed = paid_version(bills, paid_file)
    tenant_id = setup(url, contracts)
    clone()
    sqlite = database == "SQLite"
    tuples = preparsed(baseline_url, bills, tenant_id) if sqlite else []

    def floor() -> None:
        if sqlite:
            baseline_sqlite(baseline_url, tuples)
        else:
            baseline_postgres(baseline_url, bills, tenant_id)

    results: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}
    for number in range(1, rounds + 1):
        print(f"round {number}")
        if number > 1:
            clear_bills(url)
            clear_bills(baseline_url)
        assert imported("first", url, bills, rows, results, peaks)["inserted"] == rows
        assert imported("again", url, bills, rows, results, peaks)["unchanged"] == rows
        assert imported("paid", url, paid_file, rows, results, peaks)["updated"] == changed
        timed("baseline", floor, rows, results)
        timed("baseline again", floor, rows, results)
    best = {label: min(times) for label, times in results.items()}
    print(f"best of {rounds} rounds, {rows:,} rows:")
    table = []
    for label, base in (("first", "baseline"), ("again", "baseline again"), ("paid", "baseline again")):
        ratio = best[base] / best[label]
        target = TARGETS.get((database, label))
        print(f"  {label:6s} {best[label]:7.3f} s   {base} {best[base]:7.3f} s   baseline/import = {ratio:.2f}"
              + (f"  (target >= {target})" if target else ""))
        table.append((database, rows, f"import {label}", f"{best[label]:.2f} s", f"{best[base]:.2f} s ({base})",
                      f"{ratio:.2f}", f">= {target}" if target else "-", None if target is None else ratio >= target))
    for label in ("first", "again"):
        peak = peaks[label]
        print(f"  peak RSS {label}: {peak:.0f} MB (the import itself: {peak - peaks['app']:.0f} MB; "
              f"the app before the import: {peaks['app']:.0f} MB)")
        table.append((database, rows, f"peak RSS, {label}", f"{peak:.0f} MB", f"{peaks['app']:.0f} MB (app at rest)",
                       "-", f"< {RSS_TARGET_MB} MB", peak < RSS_TARGET_MB))
    return table


def write_doc(path: Path, table: list[tuple], note: str) -> None:
    """Put today's rows (per database and size) between this script's markers in ``path``."""
    day = dt.date.today().isoformat()
    text_ = path.read_text(encoding="utf-8")
    header = ("| date | database | rows | figure | measured | baseline (same run) | ratio | target | met |\n"
              "|---|---|---|---|---|---|---|---|---|")
    if START not in text_:
        text_ = text_.rstrip("\n") + f"\n\n{START}\n{header}\n{END}\n"
    head, rest = text_.split(START, 1)
    inner, tail = rest.split(END, 1)
    done = {(database, rows) for database, rows, *_ in table}
    kept = [line for line in inner.strip().splitlines()[2:]
            if not any(line.startswith(f"| {day} | {d} | {r:,} |") for d, r in done)]
    new = [f"| {day} | {d} | {r:,} | {figure} | {measured} | {base} | {ratio} | {target} | "
           f"{'-' if met is None else 'yes' if met else 'no'} |" for d, r, figure, measured, base, ratio, target, met in table]
    lines = sorted(kept + new, key=lambda line: re.split(r" \| ", line)[:3])
    path.write_text(f"{head}{START}\n{header}\n" + "\n".join(lines) + f"\n{END}{tail}", encoding="utf-8")
    print(f"wrote {len(new)} rows to {path} ({note})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description="Time the bills import against a bare-database baseline.")
    parser.add_argument("--rows", default="100000", help="sizes, comma-separated (e.g. 100000,1000000)")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3, help="repeat and report the best of each (default 3)")
    parser.add_argument("--postgres", metavar="URL", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--doc", default=str(DOC), help="file to write the dated rows into ('' = none)")
    parser.add_argument("--smoke", action="store_true", help="toy run for make test: 480 rows, 1 round, no doc")
    args = parser.parse_args()
    sizes = [int(size) for size in args.rows.split(",")]
    if args.smoke:
        sizes, args.rounds, args.doc = [480], 1, ""
    table: list[tuple] = []
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp_name:
            tmp = Path(tmp_name)
            table += bench_one(args, tmp, rows)
    if args.doc:
        write_doc(Path(args.doc), table, f"{args.rounds} round(s), best of each")


def bench_one(args, tmp: Path, rows: int) -> list[tuple]:
    if not args.postgres:
        url, copy_url = f"sqlite:///{tmp / 'bench.sqlite3'}", f"sqlite:///{tmp / 'baseline.sqlite3'}"

        def clone() -> None:
            with sqlite3.connect(tmp / "bench.sqlite3") as src, sqlite3.connect(tmp / "baseline.sqlite3") as dst:
                src.backup(dst)

        print(f"SQLite {sqlite3.sqlite_version}, {rows:,} bills, {args.months} months")
        return bench("SQLite", url, copy_url, clone, tmp, rows, args.months, args.rounds)
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

    print(f"PostgreSQL {version}, {rows:,} bills, {args.months} months")
    try:
        return bench("PostgreSQL", url, copy_url, clone_pg, tmp, rows, args.months, args.rounds)
    finally:
        with admin.connect() as conn:
            for db_name in (name, name + "_base"):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
