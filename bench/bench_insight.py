"""Usage insight at import time (issue 14 "Performance"): a city's monthly bills import with the
``[insight]`` after-steps on against the same import with them off.

    .venv/bin/python bench/bench_insight.py                      # SQLite file, 50,000 contracts
    .venv/bin/python bench/bench_insight.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_insight.py --smoke               # toy size (tests/test_bench_insight.py)

One city (Nayoro) with ``--contracts`` contracts, each with a household size (``persons`` 1-6,
one in ten unknown), and ``--history`` months of bills already imported. Each round imports two
new months of bills (one bill per contract): one with every ``[insight] *_enabled`` switch off
(the baseline: the bare import), one with them on (同じ人数の世帯の平均 and whatever other
insight step the city has on), in alternating order; each import is committed. The figure is the
median over ``--rounds`` rounds of on / off (target <= 1.2x), with the after-steps' own seconds
(the import's ``insight`` lap).

On PostgreSQL the database is built by the owner and the app connects as ``waterportal_app``,
behind row-level security, as in production. Results: printed, and the dated table in
docs/performance.md (section "Usage insight at import"), unless ``--doc ''``.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import MappingProxyType

import doc_tables
from bench_fanout import database
from gen_billing import BILL_HEADER, CONTRACT_HEADER, bill_rows, contract_rows, months_ending, write_csv
from generate import app_url, nayoro_database
from sqlalchemy import text

from waterportal.app import create_app
from waterportal.billing.households import HouseholdMedian
from waterportal.billing.issuing import KIND as BILL_PDFS
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.imports import services
from waterportal.imports.services import import_bills, import_contracts
from waterportal.mail.models import MailJob
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
TARGET = 1.2
LAST_HISTORY = "2026-04"


def app_for(url: str):
    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR)})


def months_after(last: str, count: int) -> list[str]:
    """The ``count`` billing months after ``last`` (``YYYY-MM``)."""
    year, month = map(int, last.split("-"))
    out = []
    for _ in range(count):
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        out.append(f"{year:04d}-{month:02d}")
    return out


def with_persons(rows: list[list[str]], seed: int = 3) -> list[list[str]]:
    """The contracts with a ``persons`` column: 1-6 persons, one in ten unknown (empty)."""
    rng = random.Random(seed)
    return [[*row, rng.choice(["1", "2", "2", "3", "4", "5", "6", "2", "3", ""])] for row in rows]


def insight_switched(tenant: TenantContext, on: bool) -> TenantContext:
    """The city with every ``[insight] *_enabled`` switch set to ``on`` (the steps it has)."""
    section = {key: (on if key.endswith("_enabled") else value) for key, value in tenant.settings["insight"].items()}
    return dataclasses.replace(tenant, settings=MappingProxyType({**tenant.settings, "insight": section}))


def setup(url: str, contracts: int, history: int, workdir: Path) -> list[str]:
    """Schema, Nayoro, the contracts with their sizes and ``history`` months of bills (insight on);
    returns the customer numbers."""
    owner = nayoro_database(url)
    rows = contract_rows(contracts, 11)
    numbers = [row[0] for row in rows]
    contracts_csv = write_csv(workdir / "contracts.csv", [*CONTRACT_HEADER, "persons"], with_persons(rows))
    history_csv = write_csv(workdir / "history.csv", BILL_HEADER, bill_rows(numbers, months_ending(LAST_HISTORY, history)))
    app = app_for(app_url(url))
    with app.app_context():
        tenant = get_registry().by_slug("nayoro")
        with tenant_context(tenant):
            assert import_contracts(tenant, contracts_csv).ok
            db.session.commit()
            started = time.perf_counter()
            result = import_bills(tenant, history_csv)
            assert result.ok, result.errors[:3]
            db.session.commit()
            print(f"history: {result.summary()} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            _drop_pdf_jobs()
        db.session.remove()
        db.engine.dispose()
    if url.startswith("postgresql"):
        with owner.app_context(), db.engine.connect() as conn:  # statistics for the bulk-loaded tables
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return numbers


def _drop_pdf_jobs() -> None:
    # Issuing the PDFs of 50,000 bills is the worker's job (issue 12), not the import's.
    db.session.execute(db.delete(MailJob).where(MailJob.kind == BILL_PDFS, MailJob.status == "pending")
                       .execution_options(synchronize_session=False))
    db.session.commit()


SPENT = {"comparison": 0.0}


def _timed(function):
    """``function`` adding its seconds to SPENT["comparison"] (the household medians' share of the after-steps)."""
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT["comparison"] += time.perf_counter() - start
    return run


# The import calls these two for 同じ人数の世帯の平均: timed, to tell them from the other steps.
services.touched_months = _timed(services.touched_months)
services.refresh_medians = _timed(services.refresh_medians)


def import_month(tenant: TenantContext, path: Path, on: bool) -> tuple[float, float, float, int]:
    """Import one month of bills with the insight steps ``on`` or off, committed: (seconds,
    the after-steps' seconds, the household medians' seconds, rows inserted)."""
    city = insight_switched(tenant, on)
    SPENT["comparison"] = 0.0
    with tenant_context(city):
        start = time.perf_counter()
        result = import_bills(city, path, actor="bench")
        imported = time.perf_counter() - start
        db.session.commit()
        seconds = time.perf_counter() - start
        _drop_pdf_jobs()
    assert result.ok, result.errors[:3]
    print(f"    insight {'on' if on else 'off'}: {seconds:.3f} s (commit {seconds - imported:.3f} s) {result.timings}",
          file=sys.stderr)
    return seconds, result.timings.get("insight", 0.0), SPENT["comparison"], result.inserted


def run(args) -> list[tuple]:
    with tempfile.TemporaryDirectory(prefix="bench-insight-") as tmp, database(args.postgres, Path(tmp)) as url:
        workdir = Path(tmp)
        numbers = setup(url, args.contracts, args.history, workdir)
        months = months_after(LAST_HISTORY, 2 * args.rounds)
        files = [write_csv(workdir / f"bills-{m}.csv", BILL_HEADER, bill_rows(numbers, [m])) for m in months]
        app = app_for(app_url(url))
        figures: dict[str, list[float]] = {}

        def add(name: str, value: float) -> None:
            figures.setdefault(name, []).append(value)
            print(f"  {name}: {value:,.3f}", file=sys.stderr, flush=True)

        with app.app_context():
            tenant = get_registry().by_slug("nayoro")
            for n in range(args.rounds):
                order = (False, True) if n % 2 == 0 else (True, False)  # neither always runs first
                for k, on in enumerate(order):
                    seconds, steps, comparison, inserted = import_month(tenant, files[2 * n + k], on)
                    assert inserted == args.contracts, (inserted, args.contracts)
                    add("on" if on else "off", seconds)
                    if on:
                        add("steps", steps)
                        add("comparison", comparison)
            with tenant_context(tenant):
                groups = db.session.scalar(db.select(db.func.count(HouseholdMedian.id)).where(
                    HouseholdMedian.billing_month.in_(months)))
            db.session.remove()
            db.engine.dispose()
    assert groups == args.rounds * 5, groups  # the months imported with insight on, 5 size groups each
    med = {name: statistics.median(values) for name, values in figures.items()}
    ratio = med["on"] / med["off"]
    n = args.contracts
    return [
        (f"one month of bills ({n:,} contracts) with the insight steps / without", f"{med['on']:.2f} s",
         f"{med['off']:.2f} s (insight off)", ratio, f"<= {TARGET}x", ratio <= TARGET),
        ("of which all the insight after-steps", f"{med['steps']:.3f} s", f"{med['off']:.2f} s (the import without them)",
         med["steps"] / med["off"], "-", True),
        ("of which 同じ人数の世帯の平均 (the touched months; one DELETE + one INSERT ... SELECT)",
         f"{med['comparison']:.3f} s", f"{med['off']:.2f} s (the import without them)", med["comparison"] / med["off"],
         "-", True),
    ]


def table(rows: list[tuple], args) -> str:
    return doc_tables.table("bench/bench_insight.py", f"{'PostgreSQL' if args.postgres else 'SQLite'}, "
                            f"{args.contracts:,} contracts, {args.history} months of history, "
                            f"median of {args.rounds} rounds", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (owner URL); a SQLite file otherwise")
    parser.add_argument("--contracts", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=12, help="months of bills imported before the timed months")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="toy size: 300 contracts, 2 months, 1 round, no doc")
    parser.add_argument("--doc", default=str(DOC), help="file to write the table into ('' = none)")
    args = parser.parse_args()
    if args.smoke:
        args.contracts, args.history, args.rounds = 300, 2, 1
        if args.doc == str(DOC):
            args.doc = ""
    body = table(run(args), args)
    doc_tables.publish(args.doc, "bench_insight", "Usage insight at import (issue 14)",
                       "insight-postgresql" if args.postgres else "insight-sqlite", body)


if __name__ == "__main__":
    main()
