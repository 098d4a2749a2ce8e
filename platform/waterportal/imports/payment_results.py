"""The payment-result import (issue 12 §4, ``flask import payments``): a collector's report
(コンビニ収納代行, a smartphone app, the online payment provider) that a bill was paid.

``customer_number,billing_month,paid_on,channel``: each line names a bill of this city and
makes it 納付済 on ``paid_on`` through ``channel`` (one of ``billing.payments.CHANNELS``).
Read like the other imports (imports.reading: UTF-8 or Shift_JIS), every line is checked
before anything changes, every problem is reported by line and column, and a file with any
problem changes nothing. A line that repeats what the bill already says is unchanged, so
the same file imported twice changes nothing the second time. The import is audited.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_

from waterportal.audit import services as audit
from waterportal.billing.models import Bill
from waterportal.billing.payments import CHANNELS
from waterportal.contracts.models import Contract
from waterportal.core.text import digits_only
from waterportal.extensions import db
from waterportal.imports.reading import CsvFile, Problem, Source, shown, source_name
from waterportal.imports.validation import NOT_DATE, NOT_MONTH, _date, _month, map_header
from waterportal.tenancy.context import TenantContext

REQUIRED = ("customer_number", "billing_month", "paid_on", "channel")
LOOKUP_CHUNK = 500


@dataclass
class Payment:
    line: int
    customer_number: str
    billing_month: str
    paid_on: dt.date
    channel: str
    bill: Bill | None = None


@dataclass
class PaymentImportResult:
    """What an import did (``errors`` non-empty: nothing changed)."""

    filename: str
    encoding: str = ""
    rows: int = 0
    paid: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"rejected: {len(self.errors)} problem(s), nothing changed"
        return f"{self.rows} row(s): {self.paid} bill(s) paid, {self.unchanged} unchanged"


def _parse(digits: int, records: Iterable[tuple[int, list[str]]], index: dict[str, int],
           problems: list[Problem]) -> list[Payment]:
    payments: list[Payment] = []
    seen: dict[tuple[str, str], int] = {}
    width = len(index)
    for line, record in records:
        if len(record) != width:
            problems.append(Problem(line, "-", f"列の数が見出し行と違います (見出し {width} 列、この行 {len(record)} 列)"))
            continue
        raw = {name: record[at].strip() for name, at in index.items()}
        before = len(problems)
        number = digits_only(raw["customer_number"])
        if len(number) != digits or not number.isascii():
            problems.append(Problem(line, "customer_number",
                                    f"お客様番号は{digits}桁の数字で入力してください: {shown(raw['customer_number'])}"))
        month = _month(raw["billing_month"])
        if month is None:
            problems.append(Problem(line, "billing_month", f"{NOT_MONTH}: {shown(raw['billing_month'])}"))
        paid_on = _date(raw["paid_on"])
        if paid_on is None:
            problems.append(Problem(line, "paid_on", f"{NOT_DATE}: {shown(raw['paid_on'])}" if raw["paid_on"] else "必須です"))
        channel = unicodedata.normalize("NFKC", raw["channel"]).strip()
        if channel not in CHANNELS:
            problems.append(Problem(line, "channel", f"支払経路は {'・'.join(CHANNELS)} のいずれかです: {shown(channel)}"))
        if len(problems) > before:
            continue
        first = seen.setdefault((number, month), line)  # type: ignore[arg-type]
        if first != line:
            problems.append(Problem(line, "customer_number", f"お客様番号 {number} の {month} 分が {first} 行目と重複しています"))
            continue
        payments.append(Payment(line, number, month, dt.date.fromisoformat(paid_on), channel))  # type: ignore[arg-type]
    return payments


def _lookup(tenant: TenantContext, payments: list[Payment], problems: list[Problem]) -> None:
    """Find each line's bill of this city (set-wise, in chunks)."""
    keys = sorted({(p.customer_number, p.billing_month) for p in payments})
    found: dict[tuple[str, str], Bill] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows = db.session.execute(
            select(Contract.customer_number, Bill).join(Contract, Contract.id == Bill.contract_id)
            .where(Bill.tenant_id == tenant.id,
                   tuple_(Contract.customer_number, Bill.billing_month).in_(keys[start:start + LOOKUP_CHUNK]))
            .order_by(Bill.id).with_for_update(of=Bill)
        ).all()
        found.update({(number, bill.billing_month): bill for number, bill in rows})
    for payment in payments:
        payment.bill = found.get((payment.customer_number, payment.billing_month))
        if payment.bill is None:
            problems.append(Problem(payment.line, "billing_month",
                                    f"お客様番号 {payment.customer_number} の {payment.billing_month} 分の請求はありません"))


def import_payments(tenant: TenantContext, source: Source, *, filename: str = "", actor: str = "vendor:cli",
                    remote_addr: str = "") -> PaymentImportResult:
    """Check the whole file, then mark its bills paid (flushed; the caller commits)."""
    result = PaymentImportResult(filename=filename or source_name(source))
    problems: list[Problem] = []
    with CsvFile(source) as csv_file:
        result.encoding = csv_file.encoding
        problems.extend(csv_file.errors)
        index = None if csv_file.errors else map_header(csv_file.header, REQUIRED, (), csv_file.header_line, problems)
        digits = tenant.settings["registration"]["customer_number_digits"]
        payments = _parse(digits, csv_file.rows(problems), index, problems) if index is not None else []
        result.rows = csv_file.count
    if payments:
        _lookup(tenant, payments, problems)
    if problems:
        result.errors = sorted(problems, key=lambda p: p.line)
        audit.record(actor, "bill.payment_import", target=tenant.slug, remote_addr=remote_addr,
                     filename=result.filename[:200], status="rejected", errors=len(problems))
        return result
    for payment in payments:
        bill = payment.bill
        assert bill is not None
        if (bill.paid_on, bill.paid_via) == (payment.paid_on, payment.channel):
            result.unchanged += 1
            continue
        bill.paid_on, bill.paid_via = payment.paid_on, payment.channel
        result.paid += 1
    db.session.flush()
    audit.record(actor, "bill.payment_import", target=tenant.slug, remote_addr=remote_addr,
                 filename=result.filename[:200], status="ok", paid=result.paid, unchanged=result.unchanged)
    return result
