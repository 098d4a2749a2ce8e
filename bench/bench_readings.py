"""Benchmark of the daily readings import (issue 14 §6): rows per second and peak memory.

    .venv/bin/python bench/bench_readings.py [--rows 1000000] [--days 30]
    .venv/bin/python bench/bench_readings.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Writes ``rows / days`` Nayoro contracts and a readings file of ``days`` days for each (streamed
to disk), loads the contracts into a fresh database, then times, each in a child process (its
peak RSS is /proc's VmHWM, the app included; see bench/bench_import.py):

* ``first``: import_readings of the whole file (every row inserted) + commit;
* ``again``: the same file again (every row unchanged, nothing written) + commit.

A city with 100,000 smart meters sends about 3 million rows a month; the import streams them
in chunks, so the peak memory stays the same whatever the file's size. Prints the figures for
docs/performance.md.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_import import _rss_mb, make_app, setup
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS, import_readings
from waterportal.tenancy.registry import get_registry

CONTRACT_HEADER = ("customer_number", "holder_name", "holder_name_kana", "phone", "address", "meter_number",
                   "meter_diameter_mm")
FIRST_DAY = dt.date(2026, 10, 1)


def write_files(tmp: Path, contracts: int, days: int) -> tuple[Path, Path]:
    """contracts.csv and readings.csv (every contract, every day), streamed."""
    numbers = [f"{9_000_000_000 + n:011d}" for n in range(contracts)]
    contracts_path, readings_path = tmp / "contracts.csv", tmp / "readings.csv"
    with contracts_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTRACT_HEADER)
        writer.writerows((n, "水道 太郎", "スイドウ タロウ", "0165432111", "風連町西町196番地1", f"M{n[-8:]}", "13")
                         for n in numbers)
    dates = [(FIRST_DAY + dt.timedelta(days=d)).isoformat() for d in range(days)]
    with readings_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(READING_COLUMNS)
        for index, number in enumerate(numbers):
            writer.writerows((number, day, f"0.{(index * 7 + d * 13) % 400:03d}") for d, day in enumerate(dates))
    return contracts_path, readings_path


def child(url: str, path: str) -> None:
    """One import in this (fresh) process; prints seconds, counts and peak RSS as JSON."""
    app = make_app(url)
    with app.app_context():
        tenant = get_registry().by_slug("nayoro")
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        before = _rss_mb()
        start = time.perf_counter()
        result = import_readings(tenant, Path(path), actor="bench")
        db.session.commit()
        seconds = time.perf_counter() - start
        db.engine.dispose()
    print(json.dumps({"seconds": seconds, "ok": result.ok, "errors": [str(e) for e in result.errors[:5]],
                      "summary": result.summary(), "rows": result.rows, "rss_before_mb": before,
                      "rss_peak_mb": _rss_mb(), "timings": result.timings}))


def run(url: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", url, str(path)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"import child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], result["errors"]
    return result


def bench(database: str, url: str, tmp: Path, rows: int, days: int) -> None:
    contracts, readings = write_files(tmp, max(1, rows // days), days)
    setup(url, contracts)
    for label in ("first", "again"):
        result = run(url, readings)
        print(f"{database} {label}: {result['rows']:,} rows in {result['seconds']:.1f} s = "
              f"{result['rows'] / result['seconds']:,.0f} rows/s, peak RSS {result['rss_peak_mb']:.0f} MB "
              f"(app before the import {result['rss_before_mb']:.0f} MB); {result['summary']} {result['timings']}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description="Time the daily readings import.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readings-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.postgres:
            bench("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}", tmp, args.rows, args.days)
            return
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"bench_readings_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench("PostgreSQL", make_url(args.postgres).set(database=name).render_as_string(hide_password=False),
                  tmp, args.rows, args.days)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
