"""One bill (検針・請求) per contract and billing month."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk


class Bill(TenantScoped, db.Model):
    """Meter reading and charges of one billing month. Yen are integers; ``total`` includes ``tax``."""

    __tablename__ = "bills"
    __table_args__ = (
        # Natural key of the import: one bill per contract and month. Leads with tenant_id,
        # so it also serves "the last 24 bills of this contract" in index order.
        UniqueConstraint("tenant_id", "contract_id", "billing_month"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        CheckConstraint("total = water_charge + sewer_charge", name="total_adds_up"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int]
    billing_month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    reading_date: Mapped[dt.date]
    previous_reading: Mapped[int]
    current_reading: Mapped[int]
    usage_m3: Mapped[int]
    meter_exchanged: Mapped[bool] = mapped_column(default=False)
    water_charge: Mapped[int]
    sewer_charge: Mapped[int]
    tax: Mapped[int]
    total: Mapped[int]
    due_date: Mapped[dt.date]
    paid_on: Mapped[dt.date | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    # When the 「今回の請求金額のお知らせ」 mail was queued for this bill (billing.notify);
    # NULL when nobody was told (no opted-in member linked when the bill arrived).
    bill_notified_at: Mapped[dt.datetime | None]
