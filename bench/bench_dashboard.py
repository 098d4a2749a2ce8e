"""Server time of the member pages with 1,000 contracts and two years of bills loaded.

    .venv/bin/python bench/bench_dashboard.py [--contracts 1000] [--months 24] [--requests 300]
    .venv/bin/python bench/bench_dashboard.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Builds a fresh database (SQLite file by default) with Nayoro applied, imports
``--contracts`` contracts with ``--months`` monthly bills each through the real import
(bench/gen_billing.py), adds a member linked to one of them and logs in through the real
form. Then it times ``--requests`` GETs of each page through the WSGI app in-process (no
network, no browser: the server's own time, templates included) and prints the median,
the 95th percentile, statements per request, and the ratio of each median to the median
of ``/pages/about`` measured in the same run: a static city page that renders the same
layout without any member query, so the ratio says what the member pages add to it and
stays comparable between a quiet and a busy machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from gen_billing import generate
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from waterportal.accounts.models import Member
from waterportal.app import create_app
from waterportal.billing.issuing import issue_bill
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.core.paths import TENANTS_DIR
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

HOST = "nayoro.localhost"
EMAIL, PASSWORD = "bench@example.jp", "Bench2024!x"


def make_app(url: str):
    return create_app({
        "ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR),
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MAIL_DELIVERY": "worker",
    })


def load(app, contracts: int, months: int, workdir: Path) -> int:
    """Schema, Nayoro, the exports, one member; return the member's bill id of the newest month."""
    with app.app_context():
        db.create_all()
        apply_definition(read_definition(TENANTS_DIR / "nayoro"))
        db.session.commit()
        registry = get_registry()
        registry.refresh(force=True)
        tenant = registry.by_slug("nayoro")
        contracts_csv, bills_csv = generate(workdir, contracts * months, 11, months)
        for service, path in ((import_contracts, contracts_csv), (import_bills, bills_csv)):
            result = service(tenant, path, actor="bench")
            assert result.ok, result.errors[:5]
            db.session.commit()
        with tenant_context(tenant):
            contract = db.session.scalar(select(Contract).where(Contract.customer_number == str(contracts // 2).zfill(11)))
            member = Member(email=EMAIL, nickname="ベンチ", password_hash=hash_password(PASSWORD),
                            data_visible_from=dt.date(2020, 1, 1))
            db.session.add(member)
            db.session.flush()
            db.session.add(MemberContract(member_id=member.id, contract_id=contract.id))
            bill = db.session.scalar(select(Bill).where(Bill.contract_id == contract.id)
                                     .order_by(Bill.billing_month.desc()).limit(1))
            bill_id = bill.id
            # The PDF page serves the bill as issued (the worker's job): issue this one bill.
            issue_bill(tenant, bill, contract, utcnow_naive())
            bills = db.session.scalar(select(text("count(*)")).select_from(Bill))
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The steady state: autovacuum analyses a table within a minute of a night's import;
            # measured right after the load, the planner would still see empty tables.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"loaded {contracts:,} contracts, {bills:,} bills; member linked to {contract.customer_number}")
        return bill_id


def measure(app, paths: dict[str, str], requests: int) -> dict[str, tuple[float, float, int]]:
    """label -> (median ms, p95 ms, statements per request)."""
    client = app.test_client()
    response = client.post("/login", data={"identifier": EMAIL, "password": PASSWORD}, base_url=f"http://{HOST}")
    assert response.status_code == 302, response.status_code
    with app.app_context():
        engine = db.engine
    counter = [0]

    def count(*_args):
        counter[0] += 1

    results = {}
    for label, path in paths.items():
        for _ in range(20):  # warm-up: templates compiled, caches filled
            assert client.get(path, base_url=f"http://{HOST}").status_code == 200, path
        times = []
        event.listen(engine, "before_cursor_execute", count)
        counter[0] = 0
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(path, base_url=f"http://{HOST}")
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        event.remove(engine, "before_cursor_execute", count)
        times.sort()
        results[label] = (statistics.median(times), times[int(len(times) * 0.95) - 1], round(counter[0] / requests))
    return results


def profile(app, path: str, requests: int) -> None:
    """Print pyinstrument's call tree of ``requests`` GETs of ``path`` (logged in, warmed up)."""
    from pyinstrument import Profiler  # noqa: PLC0415 (optional, not a dependency: --profile only)

    client = app.test_client()
    client.post("/login", data={"identifier": EMAIL, "password": PASSWORD}, base_url=f"http://{HOST}")
    for _ in range(20):
        client.get(path, base_url=f"http://{HOST}")
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(requests):
            assert client.get(path, base_url=f"http://{HOST}").status_code == 200
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", metavar="URL", help="run on a new database on this PostgreSQL server")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then profile N dashboard requests with pyinstrument (pip install pyinstrument)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        drop = None
        if args.postgres:
            base = make_url(args.postgres)
            name = f"wp_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = base.set(database=name).render_as_string(hide_password=False)

            def drop() -> None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        try:
            app = make_app(url)
            bill_id = load(app, args.contracts, args.months, workdir)
            paths = {
                "baseline /pages/about": "/pages/about",
                "dashboard /mypage": "/mypage",
                "graph /mypage/graph": "/mypage/graph",
                "bills /mypage/bills": "/mypage/bills",
                "bill detail": f"/mypage/bills/{bill_id}",
                "documents": "/mypage/documents",
                "bill PDF": f"/mypage/bills/{bill_id}/pdf",
            }
            results = measure(app, paths, args.requests)
            if args.profile:
                profile(app, "/mypage", args.profile)
            with app.app_context():
                db.engine.dispose()
        finally:
            if drop:
                drop()
    base = results["baseline /pages/about"][0]
    print(f"{'page':24s} {'median':>9s} {'p95':>9s} {'stmts':>6s} {'x about':>8s}")
    for label, (median, p95, statements) in results.items():
        print(f"{label:24s} {median:7.2f}ms {p95:7.2f}ms {statements:6d} {median / base:8.2f}")
    # No fixed millisecond budget (it failed on a loaded machine): the ratios to /pages/about
    # above, and bench/bench_http.py's ratios under gunicorn, are the figures (issue 10).


if __name__ == "__main__":
    main()
