"""The accepted procedures as CSV for the city's billing system (``flask procedures export``
and the console's 「料金システムへの出力」): one file per kind, every request once.

- **What is exported**: requests of one kind in 処理中 (``in_progress``: staff checked them
  and passed them on). A request in 受付 has not been looked at, one in 差戻し waits for the
  citizen, 完了 and 取下げ are over.
- **Every row once**: an export stamps its rows (``exported_at``, ``export_batch``) in the
  same transaction that produced the file, so the next export leaves them out. A request
  sent back (差戻し) and resubmitted is exported again: its stamp is cleared when it comes
  back to 受付 (``services.resubmit``), so the billing system sees the corrected request.
- **A range again**: ``again=True`` with ``since``/``until`` (受付日, the city's dates, both
  included) writes every exportable or already exported request of that range once more
  (the billing system lost a file); the rows get the new batch's stamp.
- **Encoding**: the city's ``procedures.export_encoding``: ``utf-8`` (with a BOM, so Excel
  reads it too) or ``shift_jis`` (CP932, what most billing systems in Japanese cities
  read). A character CP932 has no code for (an emoji, 𠮷) is written as 〓 (geta, the
  customary mark for a missing character) and counted in ``replaced``.
- **Cells** a spreadsheet would run as a formula get a leading apostrophe
  (``core.spreadsheet.neutralise``): the file is also opened by clerks.

Columns: docs/procedures.md (「料金システムへの出力」).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update

from waterportal.audit import services as audit
from waterportal.core.spreadsheet import neutralise
from waterportal.core.time import city_midnight_utc, city_time_text, to_city_time, utcnow_naive
from waterportal.extensions import db
from waterportal.procedures.kinds import ProcedureKind, get_kind
from waterportal.procedures.models import STATUS_IN_PROGRESS, ProcedureRequest
from waterportal.procedures.services import export_payload
from waterportal.tenancy.context import TenantContext

EXPORTABLE = (STATUS_IN_PROGRESS,)
COMMON_COLUMNS = ("受付番号", "手続き", "受付日時", "お客様番号", "申請者氏名", "申請者氏名カナ", "申請者メールアドレス")
ENCODINGS = {"utf-8": "utf-8-sig", "shift_jis": "cp932"}
GETA = "〓"


class ExportRefused(ValueError):
    """The arguments make no export (unknown kind, a range again without both dates)."""


@dataclass
class ExportResult:
    """One export: the file's bytes and name, what it holds."""

    kind: str
    batch: str
    body: bytes
    filename: str
    encoding: str
    receipt_numbers: list[str] = field(default_factory=list)
    replaced: int = 0

    @property
    def count(self) -> int:
        return len(self.receipt_numbers)


def header(kind: ProcedureKind) -> list[str]:
    """The CSV header of ``kind``: the common columns, then the kind's own."""
    return [*COMMON_COLUMNS, *(label for label, _ in kind.columns())]


def _value(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return " / ".join(str(v) for v in value)
    return str(value)


def row(tenant: TenantContext, kind: ProcedureKind, request: ProcedureRequest,
        columns: tuple[tuple[str, str], ...]) -> list[str]:
    """One request as the cells of :func:`header` (``columns``: the kind's, computed once per
    file; sensitive fields in clear: the billing system needs the account number, and this
    file is the only place it leaves the database)."""
    payload = export_payload(kind, request.payload or {})
    return [
        request.receipt_number, kind.key, city_time_text(request.created_at, tenant.timezone),
        request.customer_number, request.applicant_name, request.applicant_kana, request.applicant_email,
        *(_value(payload, key) for _, key in columns),
    ]


def encode(text: str, encoding: str) -> tuple[bytes, int]:
    """``text`` in the city's export encoding; CP932 gaps become 〓 (returns how many)."""
    codec = ENCODINGS[encoding]
    try:
        return text.encode(codec), 0
    except UnicodeEncodeError:
        pass
    out, replaced = [], 0
    for char in text:
        try:
            out.append(char.encode(codec))
        except UnicodeEncodeError:
            out.append(GETA.encode(codec))
            replaced += 1
    return b"".join(out), replaced


def write_csv(head: list[str], rows: Iterable[list[str]]) -> str:
    """RFC 4180 text with CRLF line ends, every cell neutralised for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    for cells in rows:
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()


def criteria(tenant: TenantContext, kind: str, *, since: dt.date | None = None, until: dt.date | None = None,
             again: bool = False) -> list:
    """The conditions of the requests an export of ``kind`` writes."""
    where = [ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.kind == kind]
    if again:
        where.append(or_(ProcedureRequest.status.in_(EXPORTABLE), ProcedureRequest.exported_at.is_not(None)))
    else:
        where += [ProcedureRequest.status.in_(EXPORTABLE), ProcedureRequest.exported_at.is_(None)]
    if since is not None:
        where.append(ProcedureRequest.created_at >= city_midnight_utc(since, tenant.timezone))
    if until is not None:
        where.append(ProcedureRequest.created_at < city_midnight_utc(until + dt.timedelta(days=1), tenant.timezone))
    return where


def export_requests(tenant: TenantContext, kind_key: str, *, actor: str, since: dt.date | None = None,
                    until: dt.date | None = None, again: bool = False, remote_addr: str = "",
                    now: dt.datetime | None = None) -> ExportResult:
    """Stamp the requests of ``kind_key`` to export and write their CSV (flushed; the caller
    commits, so the file and the stamps go together: an export whose file was never handed
    over is rolled back by its caller). An export of nothing is a header-only file.

    The rows are claimed first, with one UPDATE (``exported_at``, a new ``export_batch``),
    then read back by their batch: two exports at once (two clerks, the console and cron)
    cannot both write a request. On PostgreSQL the second UPDATE waits for the first's row
    locks and then finds those rows stamped; SQLite runs one writer at a time."""
    kind = get_kind(kind_key)
    if kind is None:
        raise ExportRefused(f"unknown procedure kind {kind_key!r}")
    if again and (since is None or until is None):
        raise ExportRefused("a range again needs both --since and --until")
    if since and until and until < since:
        raise ExportRefused("--until is before --since")
    now = now or utcnow_naive()
    encoding = tenant.settings["procedures"]["export_encoding"]
    batch = f"{to_city_time(now, tenant.timezone):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    db.session.execute(
        update(ProcedureRequest)
        .where(*criteria(tenant, kind.key, since=since, until=until, again=again))
        .values(exported_at=now, export_batch=batch)
        .execution_options(synchronize_session=False)
    )
    requests = db.session.scalars(
        select(ProcedureRequest)
        .where(ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.export_batch == batch)
        .order_by(ProcedureRequest.created_at, ProcedureRequest.id)
        .execution_options(populate_existing=True)
    ).all()
    columns = kind.columns()  # builds the kind's schema: once per file, not per row
    text = write_csv(header(kind), (row(tenant, kind, r, columns) for r in requests))
    body, replaced = encode(text, encoding)
    ids = [r.id for r in requests]
    audit.record(actor, "procedure.export", target=f"{tenant.slug}:{kind.key}", remote_addr=remote_addr,
                 batch=batch, count=len(ids), again=again, since=since.isoformat() if since else "",
                 until=until.isoformat() if until else "", encoding=encoding)
    result = ExportResult(kind=kind.key, batch=batch, body=body, encoding=encoding,
                          filename=f"procedures-{tenant.slug}-{kind.key}-{batch}.csv",
                          receipt_numbers=[r.receipt_number for r in requests], replaced=replaced)
    return result
