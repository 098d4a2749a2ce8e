"""Daily readings of smart meters, and 見守り: a family address told when a contract stops using water.

Both are city-owned (``tenant_id``, ``UNIQUE (tenant_id, id)``, row security in the migration).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk


class MeterReading(TenantScoped, db.Model):
    """One contract's water use on one day, in litres (the import's ``usage_m3`` × 1000: exact,
    an integer, so sums and the 見守り check never meet a rounding error)."""

    __tablename__ = "meter_readings"
    __table_args__ = (
        # The import's natural key; leads with tenant_id and contract_id, so it also serves
        # "the last 30 days of this contract" and the 見守り check in index order.
        UniqueConstraint("tenant_id", "contract_id", "reading_date"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        CheckConstraint("usage_litres >= 0", name="usage_not_negative"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    reading_date: Mapped[dt.date]
    usage_litres: Mapped[int]


class Watch(TenantScoped, db.Model):
    """見守り: mail ``email`` (a family member's address) when ``contract_id`` shows no use for
    ``days`` consecutive days. One per member.

    ``verified_at`` is NULL until the code mailed to ``email`` has been typed in: until then
    nothing is sent there but that code. ``alerted_last_use`` is the episode already told
    about: the last day with use before the quiet days (``NO_USE_YET`` when none is known);
    a new alert needs use to resume and stop again (a later last day of use).
    """

    __tablename__ = "watches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id"),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        CheckConstraint("days BETWEEN 1 AND 7", name="days_in_range"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int]
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    email: Mapped[str] = mapped_column(String(254))
    days: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    verified_at: Mapped[dt.datetime | None]
    alerted_last_use: Mapped[dt.date | None]
    alerted_at: Mapped[dt.datetime | None]
