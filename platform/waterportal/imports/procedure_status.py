"""The billing system's answer to an export of procedures (``flask procedures import-status``): per 受付番号
a new status, the city's message to the citizen and, for a 使用開始, the new お客様番号.

Like the billing imports (imports/), the file is read by ``imports.reading.CsvFile``
(UTF-8 with or without BOM, or Shift_JIS/CP932, detected), every line is checked before
anything changes, every problem is reported with its physical line and column, and a file
with any problem changes nothing (all-or-nothing). A line that repeats the request's
current status (and お客様番号) is unchanged: importing the same file twice mails nobody
twice. Each change goes through ``services.change_status`` (event, audit, the citizen's
mail), as the console's; the actor is ``system:import-status``.

A 使用開始 answered with its new お客様番号 gets that number; the contract is linked to the
citizen by :func:`waterportal.procedures.linking.link_started_contracts` (now, or later
when the contract or the citizen's account arrives). Format: docs/procedures.md.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from waterportal.audit import services as audit
from waterportal.core.forms import without_controls
from waterportal.core.text import digits_only
from waterportal.extensions import db
from waterportal.imports.reading import CsvFile, Problem, Source, shown, source_name
from waterportal.imports.validation import map_header
from waterportal.procedures import linking, services
from waterportal.procedures.models import (
    STATUS_COMPLETED,
    STATUS_IN_PROGRESS,
    STATUS_LABELS,
    STATUS_RETURNED,
    TRANSITIONS,
    ProcedureRequest,
)
from waterportal.tenancy.context import TenantContext

REQUIRED = ("receipt_number", "status")
OPTIONAL = ("message", "customer_number")
# What the billing system may answer: the code or the Japanese label.
ANSWERS = {
    STATUS_IN_PROGRESS: STATUS_IN_PROGRESS, STATUS_COMPLETED: STATUS_COMPLETED, STATUS_RETURNED: STATUS_RETURNED,
    STATUS_LABELS[STATUS_IN_PROGRESS]: STATUS_IN_PROGRESS, STATUS_LABELS[STATUS_COMPLETED]: STATUS_COMPLETED,
    STATUS_LABELS[STATUS_RETURNED]: STATUS_RETURNED,
}
START_KIND = "move_in"
MESSAGE_MAX = 2000
ACTOR = "system:import-status"
LOOKUP_CHUNK = 500


@dataclass
class Answer:
    """One checked line: the request, what it becomes."""

    line: int
    receipt_number: str
    status: str
    message: str
    customer_number: str
    request: ProcedureRequest | None = None


@dataclass
class StatusImportResult:
    """What an import did (``errors`` non-empty: nothing changed)."""

    filename: str
    encoding: str = ""
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    numbered: int = 0  # 使用開始 given their new お客様番号
    linked: int = 0  # contracts linked to citizens' accounts
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"rejected: {len(self.errors)} problem(s), nothing changed"
        return (f"{self.rows} row(s): {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.numbered} customer number(s) set, {self.linked} contract(s) linked")


def _receipt(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().upper()


def _parse(tenant: TenantContext, records: Iterable[tuple[int, list[str]]], index: dict[str, int],
           problems: list[Problem]) -> list[Answer]:
    """The lines as answers, with every problem a line has on its own (no database yet)."""
    digits = tenant.settings["registration"]["customer_number_digits"]
    seen: dict[str, int] = {}
    answers: list[Answer] = []
    width = len(index)

    def cell(record: list[str], name: str) -> str:
        return record[index[name]].strip() if name in index else ""

    for line, record in records:
        if len(record) != width:
            problems.append(Problem(line, "-", f"列の数が見出し行と違います (見出し {width} 列、この行 {len(record)} 列)"))
            continue
        receipt = _receipt(cell(record, "receipt_number"))
        status_raw = unicodedata.normalize("NFKC", cell(record, "status")).strip()
        message = without_controls(cell(record, "message"))
        number_raw = cell(record, "customer_number")
        number = digits_only(number_raw)
        bad = len(problems)
        if not receipt:
            problems.append(Problem(line, "receipt_number", "必須です"))
        elif receipt in seen:
            problems.append(Problem(line, "receipt_number", f"受付番号 {shown(receipt)} が重複しています ({seen[receipt]}行目と同じ)"))
        else:
            seen[receipt] = line
        status = ANSWERS.get(status_raw.lower() if status_raw.isascii() else status_raw)
        if not status_raw:
            problems.append(Problem(line, "status", "必須です"))
        elif status is None:
            problems.append(Problem(line, "status", f"状態は in_progress(処理中)・completed(完了)・returned(差戻し)のいずれかです: {shown(status_raw)}"))
        if status == STATUS_RETURNED and not message:
            problems.append(Problem(line, "message", "差戻しにはお客さまへのメッセージ(直していただく内容)が必要です"))
        if len(message) > MESSAGE_MAX:
            problems.append(Problem(line, "message", f"{MESSAGE_MAX:,}文字以内で入力してください ({len(message):,}文字)"))
        if number_raw and (len(number) != digits or not number.isascii()):
            problems.append(Problem(line, "customer_number", f"お客様番号は{digits}桁の数字で入力してください: {shown(number_raw)}"))
        if len(problems) == bad:
            answers.append(Answer(line, receipt, status or "", message, number))
    return answers


def _lookup(tenant: TenantContext, answers: list[Answer], problems: list[Problem]) -> None:
    """Find each answer's request of this city (set-wise, in chunks) and check what the
    request allows. The rows are locked (``FOR UPDATE`` on PostgreSQL, in id order; SQLite's
    CLI transactions hold the write lock from their start), so the same answer imported twice
    at once is applied once: the second import reads the first's result."""
    found: dict[str, ProcedureRequest] = {}
    numbers = sorted({a.receipt_number for a in answers if len(a.receipt_number) <= 20})
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        for request in db.session.scalars(select(ProcedureRequest).where(
            ProcedureRequest.tenant_id == tenant.id,
            ProcedureRequest.receipt_number.in_(numbers[start:start + LOOKUP_CHUNK]),
        ).order_by(ProcedureRequest.id).with_for_update().execution_options(populate_existing=True)):
            found[request.receipt_number] = request
    for answer in answers:
        request = found.get(answer.receipt_number)
        if request is None:
            problems.append(Problem(answer.line, "receipt_number", f"受付番号 {shown(answer.receipt_number)} の申請はありません"))
            continue
        answer.request = request
        if answer.customer_number and request.kind != START_KIND:
            problems.append(Problem(answer.line, "customer_number", "お客様番号を指定できるのは使用開始の申請だけです"))
            continue
        if answer.customer_number and request.customer_number and answer.customer_number != request.customer_number:
            problems.append(Problem(answer.line, "customer_number",
                                    f"この申請にはお客様番号 {request.customer_number} が登録済みです"))
            continue
        if (request.kind == START_KIND and answer.status == STATUS_COMPLETED and not answer.customer_number
                and not request.customer_number):
            problems.append(Problem(answer.line, "customer_number", "使用開始を完了にするには新しいお客様番号が必要です"))
            continue
        if answer.status != request.status and answer.status not in TRANSITIONS.get(request.status, frozenset()):
            problems.append(Problem(answer.line, "status", f"「{request.status_label}」の申請は「{STATUS_LABELS[answer.status]}」にできません"))


def import_status(tenant: TenantContext, source: Source, *, filename: str = "", remote_addr: str = "",
                  uploaded_by: str = ACTOR) -> StatusImportResult:
    """Check the whole answer file of ``tenant``, then apply it (flushed; the caller commits,
    or rolls back when ``errors`` is non-empty: then nothing was changed anyway).

    The status changes are the billing system's (actor ``system:import-status``); the import
    itself is audited under ``uploaded_by`` (a staff member who uploaded it in the console)."""
    result = StatusImportResult(filename=filename or source_name(source))
    problems: list[Problem] = []
    with CsvFile(source) as csv_file:
        result.encoding = csv_file.encoding
        problems.extend(csv_file.errors)
        index = None if csv_file.errors else map_header(csv_file.header, REQUIRED, OPTIONAL, csv_file.header_line, problems)
        answers = _parse(tenant, csv_file.rows(problems), index, problems) if index is not None else []
        result.rows = csv_file.count
    if answers:  # also when other lines have problems: the clerk sees every problem at once
        _lookup(tenant, answers, problems)
    if not problems and index is not None and not answers:
        problems.append(Problem(csv_file.header_line, "-", "データ行がありません"))
    if problems:
        result.errors = sorted(problems, key=lambda p: p.line)
        audit.record(uploaded_by, "procedure.status_import", target=tenant.slug, remote_addr=remote_addr,
                     filename=result.filename[:200], status="rejected", errors=len(problems))
        return result
    for answer in answers:
        request = answer.request
        assert request is not None
        if answer.customer_number and not request.customer_number:
            request.customer_number = answer.customer_number
            result.numbered += 1
        if answer.status == request.status:
            result.unchanged += 1
            continue
        services.change_status(tenant, request, answer.status, answer.message, ACTOR, remote_addr=remote_addr)
        result.changed += 1
    db.session.flush()
    result.linked = linking.link_started_contracts(tenant)
    audit.record(uploaded_by, "procedure.status_import", target=tenant.slug, remote_addr=remote_addr,
                 filename=result.filename[:200], status="ok", changed=result.changed, unchanged=result.unchanged,
                 numbered=result.numbered, linked=result.linked)
    return result
