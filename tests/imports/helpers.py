"""Plain helpers of the import tests: valid rows, CSV text, reading back what was stored."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.tenancy.context import tenant_context

NAYORO_NO = "01234567890"  # 11 digits in Nayoro
KANAZAWA_NO = "0123456789"  # 10 digits in Kanazawa


def contract_row(number: str, **fields) -> dict:
    """A valid contract row; override any column."""
    row = {
        "customer_number": number, "holder_name": "水道 太郎", "holder_name_kana": "スイドウ タロウ",
        "phone": "01654-3-2111", "address": "風連町西町196番地1", "meter_number": "M54321",
        "meter_diameter_mm": "13",
    }
    row.update(fields)
    return row


def bill_row(number: str, month: str = "2026-09", **fields) -> dict:
    """A valid bill row (20 m³, 5,000 yen with 454 yen tax, unpaid); override any column."""
    row = {
        "customer_number": number, "billing_month": month, "period_start": "2026-08-01",
        "period_end": "2026-08-31", "reading_date": "2026-08-31", "previous_reading": "100",
        "current_reading": "120", "usage_m3": "20", "water_charge": "3000", "sewer_charge": "2000",
        "tax": "454", "total": "5000", "due_date": "2026-09-30", "paid_on": "",
    }
    row.update(fields)
    return row


def csv_text(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def bills_of(tenant) -> list[Bill]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(Bill).order_by(Bill.contract_id, Bill.billing_month)))


def contracts_of(tenant) -> list[Contract]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(Contract).order_by(Contract.customer_number)))


def batches_of(tenant) -> list[ImportBatch]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.id)))


def snapshot(tenant) -> list[tuple]:
    """Every stored value of the city's contracts and bills (timestamps included)."""
    contracts = [(c.id, c.customer_number, c.holder_name, c.holder_name_kana, c.phone, c.address,
                  c.meter_number, c.meter_diameter_mm, c.created_at, c.data_updated_at) for c in contracts_of(tenant)]
    bills = [(b.id, b.contract_id, b.billing_month, b.period_start, b.period_end, b.reading_date,
              b.previous_reading, b.current_reading, b.usage_m3, b.meter_exchanged, b.water_charge,
              b.sewer_charge, b.tax, b.total, b.due_date, b.paid_on, b.updated_at) for b in bills_of(tenant)]
    return contracts + bills
