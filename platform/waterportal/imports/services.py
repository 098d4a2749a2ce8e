"""Import services: one export file -> validated, all-or-nothing upsert, recorded as an ImportBatch.

The CLI, the admin console and the demo loader call these. They flush and execute; the
caller commits (a rejected file leaves only its ImportBatch row in the session).
"""
from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from waterportal.billing.notify import notify_new_bills
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports import writers
from waterportal.imports.bill_validation import validate_bills
from waterportal.imports.models import ImportBatch
from waterportal.imports.reading import (
    CsvFile,
    Problem,
    Source,
    read_csv,
    read_source,
    source_name,
)
from waterportal.imports.validation import (
    BILL_COLUMNS,
    BILL_OPTIONAL,
    CONTRACT_COLUMNS,
    map_header,
    validate_contracts,
)
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
    # Bills import: 「今回の請求金額のお知らせ」 mails queued for the new bills (billing.notify).
    notified: int = 0

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
    """The bookkeeping shared by both kinds: timings, file, problems, the batch row."""

    def __init__(self, kind: str, tenant: TenantContext, source: Source, filename: str | None, actor: str):
        self.kind, self.tenant, self.actor = kind, tenant, actor
        self.started_at = utcnow_naive()
        self.clock = time.perf_counter()
        self.timings: dict[str, float] = {}
        data = read_source(source)
        # PostgreSQL text cannot hold NUL; an uploaded file's name is whatever the browser sent.
        self.filename = (filename or source_name(source)).replace("\x00", "")
        self.file: CsvFile = read_csv(data)
        self.row_count = len(self.file.rows)
        self.problems: list[Problem] = list(self.file.errors)
        self.lap("read")

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.clock, 4)
        self.clock = now

    def validated(self) -> None:
        """Drop the raw rows once validated: about a third of the peak memory of a big file."""
        self.file.rows = []
        self.lap("validate")

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


def _classify(clean: dict[Any, tuple[int, tuple[Any, ...]]], existing: dict[Any, tuple[Any, ...]]
              ) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """Rows to write (new or changed, key first) and the counts inserted/updated/unchanged."""
    writes: list[tuple[Any, ...]] = []
    inserted = updated = 0
    for key, (_line, values) in clean.items():
        old = existing.get(key)
        if old == values:
            continue
        if old is None:
            inserted += 1
        else:
            updated += 1
        writes.append((*key, *values) if isinstance(key, tuple) else (key, *values))
    unchanged = len(clean) - inserted - updated
    return writes, {"inserted": inserted, "updated": updated, "unchanged": unchanged}


def _digits(tenant: TenantContext) -> int:
    return int(tenant.settings["registration"]["customer_number_digits"])


def import_contracts(tenant: TenantContext, source: Source, *, filename: str | None = None,
                     actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import a contracts export (upsert on customer_number) for ``tenant``; the caller commits."""
    with tenant_context(tenant), _gc_paused():
        run = _Run("contracts", tenant, source, filename, actor)
        index = run.header(CONTRACT_COLUMNS)
        if index is None:
            return run.finish({})
        clean = validate_contracts(run.file.rows, index, _digits(tenant), run.problems,
                                   _stepper(progress, "validate", run.row_count))
        run.validated()
        if run.problems:
            return run.finish({})
        db.session.flush()
        conn = db.session.connection()
        writes, counts = _classify(clean, writers.load_contracts(conn, tenant.id))
        run.lap("preload")
        writers.write_contracts(conn, tenant.id, writes, utcnow_naive(), current_app.config["IMPORT_CHUNK_ROWS"],
                                _stepper(progress, "write", len(writes)))
        run.lap("write")
        return run.finish(counts)


def import_bills(tenant: TenantContext, source: Source, *, filename: str | None = None,
                 actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import a bills export (upsert on contract and billing_month) for ``tenant``; the caller commits.

    Every customer number must already be a contract of ``tenant``.
    """
    with tenant_context(tenant), _gc_paused():
        run = _Run("bills", tenant, source, filename, actor)
        index = run.header(BILL_COLUMNS, BILL_OPTIONAL)
        if index is None:
            return run.finish({})
        db.session.flush()
        conn = db.session.connection()
        contract_ids = writers.load_contract_ids(conn, tenant.id)
        clean = validate_bills(run.file.rows, index, _digits(tenant), contract_ids, run.problems,
                               _stepper(progress, "validate", run.row_count))
        run.validated()
        if run.problems:
            return run.finish({})
        existing = writers.load_bills(conn, tenant.id, {month for _contract, month in clean})
        writes, counts = _classify(clean, existing)
        new_bills = [key for key in clean if key not in existing]
        run.lap("preload")
        writers.write_bills(conn, tenant.id, writes, utcnow_naive(), current_app.config["IMPORT_CHUNK_ROWS"],
                            _stepper(progress, "write", len(writes)))
        run.lap("write")
        # Mail members about the new bills in this same transaction (outbox rows commit with the bills).
        notified = notify_new_bills(tenant, new_bills)
        run.lap("notify")
        result = run.finish(counts)
        result.notified = notified
        return result
