"""A bill with its issued PDF (billing.issuing), for the walks that need an ``issued_id``."""
from __future__ import annotations

import datetime as dt

from waterportal.billing.issuing import issue_bill
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context


def issued_bill(app, tenant, contract_id: int) -> int:
    """Add a bill of ``contract_id`` and issue its PDF; return the issued document's id."""
    with app.app_context(), tenant_context(tenant):
        bill = Bill(contract_id=contract_id, billing_month="2026-10", period_start=dt.date(2026, 9, 1),
                    period_end=dt.date(2026, 9, 30), reading_date=dt.date(2026, 10, 1), previous_reading=100,
                    current_reading=120, usage_m3=20, water_charge=3000, sewer_charge=2000, tax=454, total=5000,
                    due_date=dt.date(2026, 10, 31))
        db.session.add(bill)
        db.session.flush()
        document = issue_bill(tenant, bill, db.session.get(Contract, contract_id), dt.datetime(2026, 11, 1, 1, 0))
        db.session.commit()
        return document.id
