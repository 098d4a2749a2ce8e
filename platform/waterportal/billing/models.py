"""One bill (検針・請求) per contract and billing month, and the documents (書類) of a contract."""
from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath

from sqlalchemy import CheckConstraint, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

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


class Document(TenantScoped, db.Model):
    """One document of one contract; natural key (contract, title, issued_on)."""

    __tablename__ = "documents"
    __table_args__ = (
        # The import's natural key; it leads with (tenant_id, contract_id), so it also serves
        # "this contract's documents".
        UniqueConstraint("tenant_id", "contract_id", "title", "issued_on"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date]
    # The name in the city's export, used for the download's file name.
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    batch_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    @property
    def download_name(self) -> str:
        """The name the citizen's browser saves: 「水道料金改定のお知らせ_20240801.pdf」."""
        title = "".join("_" if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in self.title)
        return f"{title}_{self.issued_on:%Y%m%d}{PurePosixPath(self.filename).suffix.lower()}"
