"""Mail fan-out out of requests (issue 10): the staff POST, the worker's expansion, bill mail.

    .venv/bin/python bench/bench_fanout.py                      # SQLite file, 50,000 members
    .venv/bin/python bench/bench_fanout.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_fanout.py --smoke               # toy size (tests/test_bench_fanout.py)

One city (Nayoro) with ``--members`` members who opted in to notice and bill mail, each
linked to a contract of their own. Each figure beside a baseline measured in the same run
(median of ``--rounds`` interleaved rounds):

(a) publishing a notice with mail to every member (what the staff POST does: the
    service call and the commit) / the same notice without mail; and the SQL statements it
    issues (counted with SQLAlchemy's ``before_cursor_execute``) at N members and at 3;
(b) the outbox worker expanding that notice's job (``expand_due``: claim, render once,
    ``INSERT ... SELECT``, commit), mails per second / a bare ``INSERT ... SELECT`` of the same
    rows into the outbox by the driver (the floor);
(c) one month of bills (one per member's contract) imported with bill mail (members opted
    in) / without (members opted out); the worker's expansion of that bill job is shown too.

On PostgreSQL the database is built by the owner and the app connects as ``waterportal_app``,
behind row-level security, as in production. Results: printed, and the dated table in
docs/performance.md (section "Mail fan-out"), unless ``--doc ''``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import doc_tables
from gen_billing import BILL_HEADER, CONTRACT_HEADER, bill_rows, contract_rows, write_csv
from generate import app_url, nayoro_database
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from waterportal.accounts.models import Member
from waterportal.app import create_app
from waterportal.billing.issuing import KIND as BILL_PDFS
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.paths import TENANTS_DIR
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.notices.services import create_notice
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2gtZmFub3V0$YmVuY2gtZmFub3V0YmVuY2g"  # noqa: S105 - nobody logs in


@contextmanager
def database(postgres: str | None, workdir: Path):
    """An empty database: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{workdir / 'fanout.sqlite3'}"
        return
    base = make_url(postgres)
    name = f"bench_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_for(url: str):
    return create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "TENANTS_DIR": str(TENANTS_DIR),
                       "MAIL_DELIVERY": "worker"})


def setup(url: str, members: int, workdir: Path) -> Path:
    """Schema, Nayoro, ``members`` contracts each with an opted-in member; returns the contracts CSV."""
    owner = nayoro_database(url)
    contracts = write_csv(workdir / "contracts.csv", CONTRACT_HEADER, contract_rows(members, 11))
    app = app_for(app_url(url))
    with app.app_context():
        tenant = get_registry().by_slug("nayoro")
        with tenant_context(tenant):
            assert import_contracts(tenant, contracts).ok
            db.session.commit()
            ids = db.session.scalars(db.select(Contract.id).order_by(Contract.id)).all()
            now = utcnow_naive()
            db.session.execute(db.insert(Member.__table__), [
                {"tenant_id": tenant.id, "email": f"m{n}@example.jp", "nickname": f"会員{n}", "password_hash": PASSWORD_HASH,
                 "relationship_to_holder": "self", "payment_method": "none", "notify_bills": True,
                 "notify_notices": True, "session_version": 1, "data_visible_from": dt.date(2026, 1, 1),
                 "created_at": now} for n in range(members)])
            member_ids = db.session.scalars(db.select(Member.id).order_by(Member.id)).all()
            db.session.execute(db.insert(MemberContract.__table__), [
                {"tenant_id": tenant.id, "member_id": m, "contract_id": c, "label": "", "created_at": now}
                for m, c in zip(member_ids, ids, strict=True)])
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    if url.startswith("postgresql"):
        with owner.app_context(), db.engine.connect() as conn:  # statistics for the bulk-loaded tables
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return contracts


@contextmanager
def counted(engine):
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def publish(tenant, mail: bool, title: str) -> tuple[float, int]:
    """The staff POST's work: create the notice (and its mail job), commit. Seconds, statements."""
    with counted(db.engine) as seen:
        start = time.perf_counter()
        with tenant_context(tenant):
            create_notice(tenant, "staff:bench", title=title, body="配水管工事のため断水します。", important=True,
                          published_at=utcnow_naive() - dt.timedelta(minutes=1), mail_members=mail)
            db.session.commit()
        seconds = time.perf_counter() - start
    return seconds, len(seen)


def clear_outbox(tenant) -> None:
    with tenant_context(tenant):
        db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.tenant_id == tenant.id))
        db.session.commit()


def bare_insert_select(tenant) -> tuple[float, int]:
    """The floor: the same outbox rows by one driver-level INSERT ... SELECT, committed."""
    with tenant_context(tenant):  # the engine's hooks set the city for the statement
        conn = db.session.connection()
        start = time.perf_counter()
        rows = conn.execute(text(
            "INSERT INTO mail_outbox (tenant_id, to_address, sender, subject, body, kind, status, message_id, attempts,"
            " next_attempt_at, created_at) SELECT tenant_id, email, :sender, :subject, :body, 'notice', 'pending',"
            " '<bare.' || CAST(id AS VARCHAR) || '@bench>', 0, :now, :now FROM members WHERE tenant_id = :tenant"
        ), {"sender": "bench <noreply@example.jp>", "subject": "件名", "body": "本文" * 300, "now": utcnow_naive(),
            "tenant": tenant.id}).rowcount
        db.session.commit()
        return time.perf_counter() - start, rows


def expansion() -> tuple[float, int]:
    start = time.perf_counter()
    queued = expand_due(limit=100)
    return time.perf_counter() - start, queued


def import_month(tenant, path: Path) -> tuple[float, int]:
    """Import one month of bills; the PDF-issuing job the import also records is dropped:
    issuing 50,000 bill PDFs (issue 12, ~0.1 s each) is the worker's other job, not mail
    fan-out, and would hold every later expand_due() for an hour."""
    with tenant_context(tenant):
        start = time.perf_counter()
        result = import_bills(tenant, path, actor="bench")
        db.session.commit()
        seconds = time.perf_counter() - start
        db.session.execute(db.delete(MailJob).where(MailJob.kind == BILL_PDFS, MailJob.status == "pending")
                           .execution_options(synchronize_session=False))
        db.session.commit()
    assert result.ok, result.errors[:3]
    return seconds, result.inserted


def opt_bills(tenant, on: bool) -> None:
    with tenant_context(tenant):
        db.session.execute(db.update(Member).values(notify_bills=on).execution_options(synchronize_session=False))
        db.session.commit()


def run(args) -> list[tuple]:
    rounds = args.rounds
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp, database(args.postgres, Path(tmp)) as url:
        workdir = Path(tmp)
        contracts = setup(url, args.members, workdir)
        numbers = [row[0] for row in contract_rows(args.members, 11)]
        del contracts
        months = [f"{2024 + (m // 12):04d}-{m % 12 + 1:02d}" for m in range(2 * rounds)]
        files = [write_csv(workdir / f"bills-{month}.csv", BILL_HEADER, bill_rows(numbers, [month])) for month in months]
        app = app_for(app_url(url))
        figures: dict[str, list[float]] = {}

        def add(name, value):
            figures.setdefault(name, []).append(value)
            print(f"  {name}: {value:,.3f}", file=sys.stderr, flush=True)

        with app.app_context():
            tenant = get_registry().by_slug("nayoro")
            publish(tenant, False, "準備")  # warm caches
            for n in range(rounds):
                seconds, statements = publish(tenant, True, f"断水のお知らせ{n}")
                add("post_mail", seconds)
                add("statements_mail", statements)
                seconds, statements_plain = publish(tenant, False, f"お知らせ{n}")
                add("post_plain", seconds)
                add("statements_plain", statements_plain)
                seconds, queued = expansion()
                assert queued == args.members, (queued, args.members)
                add("expand_rate", queued / seconds)
                clear_outbox(tenant)
                seconds, rows = bare_insert_select(tenant)
                add("bare_rate", rows / seconds)
                clear_outbox(tenant)
                # (c) a month without bill mail, a month with it
                opt_bills(tenant, False)
                add("import_plain", import_month(tenant, files[2 * n])[0])
                expand_due(limit=100)  # the job of the month without mail: nothing to queue
                opt_bills(tenant, True)
                seconds, inserted = import_month(tenant, files[2 * n + 1])
                add("import_mail", seconds)
                seconds, queued = expansion()
                assert queued == inserted == args.members, (queued, inserted, args.members)
                add("bill_expand_rate", queued / seconds)
                clear_outbox(tenant)
            # statements at 3 members: a city of its own would do; drop to 3 opted in here
            with tenant_context(tenant):
                keep = db.session.scalars(db.select(Member.id).order_by(Member.id).limit(3)).all()
                db.session.execute(db.update(Member).where(Member.id.not_in(keep)).values(notify_notices=False)
                                   .execution_options(synchronize_session=False))
                db.session.commit()
            _seconds, statements_three = publish(tenant, True, "三人へ")
            assert expand_due() == 3
            with tenant_context(tenant):
                pending = db.session.scalar(db.select(db.func.count(MailJob.id)).where(MailJob.status == "pending"))
            assert pending == 0
            db.session.remove()
            db.engine.dispose()

    med = {name: statistics.median(values) for name, values in figures.items()}
    n = args.members
    rows = [
        (f"notice with mail to {n:,} members: the staff POST's work (s)", f"{med['post_mail']:.3f} s",
         f"{med['post_plain']:.3f} s (same notice without mail)", med["post_mail"] / med["post_plain"], "< 1 s at any member count",
         med["post_mail"] < 1.0),
        (f"statements in that request, {n:,} members / 3 members", f"{med['statements_mail']:.0f}",
         f"{statements_three} (3 members)", med["statements_mail"] / statements_three, "constant (ratio 1)",
         med["statements_mail"] == statements_three),
        ("worker expansion of the notice job, mails/s", f"{med['expand_rate']:,.0f}/s",
         f"{med['bare_rate']:,.0f}/s (bare INSERT ... SELECT)", med["expand_rate"] / med["bare_rate"],
         ">= 10,000/s", med["expand_rate"] >= 10_000),
        (f"one month of bills ({n:,} rows) with bill mail / without", f"{med['import_mail']:.2f} s",
         f"{med['import_plain']:.2f} s (members opted out)", med["import_mail"] / med["import_plain"], "<= 1.3x",
         med["import_mail"] / med["import_plain"] <= 1.3),
        ("worker expansion of the bill job (one body per member and bill), mails/s",
         f"{med['bill_expand_rate']:,.0f}/s", f"{med['expand_rate']:,.0f}/s (notice job)",
         med["bill_expand_rate"] / med["expand_rate"], "-", True),
    ]
    return rows


def table(rows: list[tuple], args) -> str:
    return doc_tables.table("bench/bench_fanout.py", f"{'PostgreSQL' if args.postgres else 'SQLite'}, "
                            f"{args.members:,} members, median of {args.rounds} rounds", rows)


def write_doc(path: Path, body: str, postgres: bool) -> None:
    """Replace this backend's table in the Mail fan-out section of ``path``."""
    doc_tables.write_block(path, "bench_fanout", "Mail fan-out", "fanout-postgresql" if postgres else "fanout-sqlite",
                           body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (owner URL); a SQLite file otherwise")
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="toy size: 300 members, 1 round, no doc")
    parser.add_argument("--doc", default=str(DOC), help="file to write the table into ('' = none)")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.rounds = 300, 1
        if args.doc == str(DOC):
            args.doc = ""
    rows = run(args)
    body = table(rows, args)
    print(body)
    if args.doc:
        write_doc(Path(args.doc), body, bool(args.postgres))
        print(f"written to {args.doc}")


if __name__ == "__main__":
    main()
