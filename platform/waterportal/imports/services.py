"""Import services: one export file -> validated, all-or-nothing upsert, recorded as an ImportBatch.

The CLI, the admin console and the demo loader call these. They flush and execute; the
caller commits (a rejected file leaves only its ImportBatch row in the session).

A file is streamed in chunks of ``IMPORT_CHUNK_ROWS``: each chunk is read, checked and handed
to the writer (imports/writers.py), then dropped, so memory does not grow with the file.
The writer stages the rows (PostgreSQL: a temporary table; SQLite: under a savepoint);
only when the whole file is clean does ``merge`` write them, otherwise ``abort`` leaves
the city's data as it was.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from waterportal.billing.households import comparison_enabled, refresh_medians, touched_months
from waterportal.billing.issuing import record_bill_issue
from waterportal.billing.leak_mail import record_leak_mail
from waterportal.billing.leaks import flag_leaks, leak_enabled
from waterportal.billing.notify import record_bill_mail
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports import writers
from waterportal.imports.bill_validation import BillRows
from waterportal.imports.models import ImportBatch
from waterportal.imports.reading import CsvFile, Problem, Source, source_name
from waterportal.imports.validation import (
    BILL_COLUMNS,
    BILL_OPTIONAL,
    CONTRACT_COLUMNS,
    CONTRACT_OPTIONAL,
    ContractRows,
    map_header,
)
from waterportal.mail.models import MailJob
from waterportal.tenancy.context import TenantContext, tenant_context

# (phase, rows done, rows in phase); phases are "validate" and "write".
ProgressCallback = Callable[[str, int, int], None]
# A batch keeps this many errors; the ImportResult keeps them all.
ERRORS_KEPT = 1000


@dataclass
class ImportResult:
    """What an import did. ``errors`` are (line, column, message), sorted by line."""

    kind: str
    status: str
    encoding: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[Problem] = field(default_factory=list)
    batch_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # Bills import: the job the outbox worker expands into 「今回の請求金額のお知らせ」 mails
    # for the new bills (billing.notify).
    mail_job: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """``inserted=N updated=N unchanged=N rejected=N encoding=E``."""
        return (f"inserted={self.inserted} updated={self.updated} unchanged={self.unchanged} "
                f"rejected={self.rejected} encoding={self.encoding or '-'}")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is loaded.

    A 100,000-row file makes about two million small objects and no reference cycles; the
    collector would walk them again and again (about 40% of the parse time). Reference
    counting still frees everything; the collector is switched back on afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Keep:
    """``keep(clean)``: whether the savepoint of :func:`_all_or_nothing` is released."""

    def __init__(self) -> None:
        self.kept = True

    def __call__(self, clean: bool) -> bool:
        self.kept = clean
        return clean


@contextlib.contextmanager
def _all_or_nothing() -> Iterator[_Keep]:
    """A savepoint around one file's writes: released if kept, rolled back if not (or on error).

    The rejected file's ImportBatch row is added after it, so that row stays.
    """
    db.session.flush()
    nested = db.session.begin_nested()
    keep = _Keep()
    try:
        yield keep
    except BaseException:
        nested.rollback()
        raise
    if keep.kept:
        nested.commit()
    else:
        nested.rollback()


def _stepper(progress: ProgressCallback | None, phase: str, total: int) -> Callable[[int], None] | None:
    """Turn "n more rows done" calls into ``progress(phase, done, total)``."""
    if progress is None:
        return None
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(phase, done, total)

    return step


class _Run:
    """The bookkeeping shared by every kind: timings, the open file, problems, the batch row."""

    def __init__(self, kind: str, tenant: TenantContext, source: Source, filename: str | None, actor: str):
        self.kind, self.tenant, self.actor = kind, tenant, actor
        self.started_at = utcnow_naive()
        self.clock = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.file = CsvFile(source)
        # PostgreSQL text cannot hold NUL; an uploaded file's name is whatever the browser sent.
        self.filename = (filename or source_name(source)).replace("\x00", "")
        self.problems: list[Problem] = list(self.file.errors)
        self.lap("open")

    def __enter__(self) -> _Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    @property
    def row_count(self) -> int:
        return self.file.count

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.clock, 4)
        self.clock = now

    def chunks(self, size: int, progress: ProgressCallback | None) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """The file's data rows, ``size`` at a time as (lines, records), reporting ``("validate", done, estimate)``."""
        estimate = self.file.estimate
        for chunk in self.file.chunks(size, self.problems):
            yield chunk
            if progress:
                progress("validate", self.row_count, max(estimate, self.row_count))
        if progress and self.row_count != estimate:
            progress("validate", self.row_count, self.row_count)

    def header(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, int] | None:
        if self.problems:
            return None
        return map_header(self.file.header, required, optional, self.file.header_line, self.problems)

    def finish(self, counts: dict[str, int]) -> ImportResult:
        errors = sorted(self.problems, key=lambda p: p.line)
        status = "rejected" if errors else "ok"
        result = ImportResult(
            kind=self.kind, status=status, encoding=self.file.encoding, rows=self.row_count,
            rejected=len({p.line for p in errors}), errors=errors,
            **({} if errors else counts),
        )
        kept = [list(p) for p in errors[:ERRORS_KEPT]]
        if len(errors) > ERRORS_KEPT:
            kept.append([0, "-", f"ほか {len(errors) - ERRORS_KEPT} 件のエラーは省略しました"])
        batch = ImportBatch(
            tenant_id=self.tenant.id, kind=self.kind, filename=self.filename[:300], sha256=self.file.sha256,
            encoding=self.file.encoding, actor=self.actor[:200], status=status, rows=result.rows,
            inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
            rejected=result.rejected, errors=kept, started_at=self.started_at, finished_at=utcnow_naive(),
        )
        db.session.add(batch)
        db.session.flush()
        result.batch_id = batch.id
        self.lap("record")
        result.timings = self.timings
        return result


def _digits(tenant: TenantContext) -> int:
    return int(tenant.settings["registration"]["customer_number_digits"])


def _chunk_rows() -> int:
    return int(current_app.config["IMPORT_CHUNK_ROWS"])


def _written(progress: ProgressCallback | None, rows: int) -> None:
    if progress:
        progress("write", rows, rows)


class _Behind:
    """Runs ``add(chunk)`` in one thread, a chunk behind the reader: the database writes chunk
    N (the driver lets go of the GIL while it waits) while Python reads and checks chunk N+1.

    At most two chunks wait (memory stays bounded). The reader does not touch the database
    meanwhile; an error in the thread is raised in the reader at its next ``put`` or ``close``.
    ``threaded=False`` writes each chunk in the reader's thread instead.
    """

    def __init__(self, add: Callable[[list[tuple[Any, ...]]], None], threaded: bool = True):
        self.add = add
        self.queue: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.threaded = threaded
        if threaded:
            self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.add(chunk)
                except BaseException as error:  # handed to the reader's thread
                    self.error = error

    def put(self, chunk: list[tuple[Any, ...]]) -> None:
        if self.error is not None:
            raise self.error
        if self.threaded:
            self.queue.put(chunk)
        else:
            self.add(chunk)

    def close(self) -> None:
        """Wait for the last chunk; raise the thread's error if there was one."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


def _load(run: _Run, checker: ContractRows | BillRows, writer: writers.ContractWriter | writers.BillWriter,
          progress: ProgressCallback | None) -> bool:
    """Check the file chunk by chunk, writing the clean rows behind; True if the whole file is clean.

    After the first problem only checking goes on (every problem is reported) and nothing more
    is written; the caller's savepoint then undoes what was.
    """
    # SQLite works inside this process: a thread only contends for the GIL (measured slower).
    behind = _Behind(writer.add, threaded=writer.postgres)
    try:
        for lines, records in run.chunks(_chunk_rows(), progress):
            clean = checker.check(lines, records, run.problems)
            if not (run.problems or getattr(checker, "repeats", ())):
                behind.put(clean)
        behind.close()
    except BaseException:
        with contextlib.suppress(BaseException):
            behind.close()
        writer.abort()
        raise
    run.lap("validate")
    if run.problems or getattr(checker, "repeats", ()):
        writer.abort()
        return False
    return True


def import_contracts(tenant: TenantContext, source: Source, *, filename: str | None = None,
                     actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import a contracts export (upsert on customer_number) for ``tenant``; the caller commits."""
    with tenant_context(tenant), _gc_paused(), _Run("contracts", tenant, source, filename, actor) as run:
        index = run.header(CONTRACT_COLUMNS, CONTRACT_OPTIONAL)
        if index is None:
            return run.finish({})
        checker = ContractRows(index, _digits(tenant))
        with _all_or_nothing() as keep:
            writer = writers.ContractWriter(db.session.connection(), tenant.id, utcnow_naive())
            counts = writer.merge() if keep(_load(run, checker, writer, progress)) else {}
        if not keep.kept:
            return run.finish({})
        _written(progress, writer.rows)
        run.lap("write")
        return run.finish(counts)


def import_bills(tenant: TenantContext, source: Source, *, filename: str | None = None,
                 actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import a bills export (upsert on contract and billing_month) for ``tenant``; the caller commits.

    Every customer number must already be a contract of ``tenant``.
    """
    with tenant_context(tenant), _gc_paused(), _Run("bills", tenant, source, filename, actor) as run:
        index = run.header(BILL_COLUMNS, BILL_OPTIONAL)
        if index is None:
            return run.finish({})
        db.session.flush()
        conn = db.session.connection()
        checker = BillRows(index, _digits(tenant), *writers.load_contract_slots(conn, tenant.id),
                           rounding=tenant.settings["invoice"]["rounding"])
        run.lap("contracts")
        with _all_or_nothing() as keep:
            mail_job = record_bill_mail(tenant)  # before the first bill is written: the new bills are those after it
            record_bill_issue(tenant)  # the worker issues the PDFs of the new and corrected bills (billing.issuing)
            writer = writers.BillWriter(db.session.connection(), tenant.id, utcnow_naive())
            counts = writer.merge() if keep(_load(run, checker, writer, progress)) else {}
        if not keep.kept:
            checker.explain_repeats(run.file.reread(), run.problems)
            return run.finish({})
        _written(progress, writer.rows)
        run.lap("write")
        _insight(tenant, writer)
        _flag_leaks(tenant, mail_job, writer.now)
        run.lap("insight")
        result = run.finish(counts)
        result.mail_job = mail_job
        return result


def _insight(tenant: TenantContext, writer: writers.BillWriter) -> None:
    """The bills import's insight after-step (issue 14), in its transaction, set-wise: the
    city's household medians (同じ人数の世帯の平均) of the billing months the file changed."""
    if comparison_enabled(tenant.settings):
        months = touched_months(db.session.connection(), tenant.id, writer.months, writer.now)
        refresh_medians(tenant, months, writer.now)


def _flag_leaks(tenant: TenantContext, mail_job: int, now: dt.datetime) -> None:
    """The leak after-step (issue 14 §1, billing.leaks): one statement flags the file's new
    bills whose usage jumped, and their mail becomes one job for the worker. Skipped when the
    city has it off (``[insight] leak_enabled``)."""
    if not leak_enabled(tenant.settings):
        return
    bills_job = db.session.get(MailJob, mail_job)  # its watermark and links: one primary-key read
    if flag_leaks(tenant, bills_job.ref_id, now):
        record_leak_mail(tenant, bills_job.ref_id, bills_job.recipients_upto)
