"""The audit log table: who did what, when and from where, per city (written by audit/services.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped


class AuditEntry(TenantScoped, db.Model):
    """One audited action. ``actor`` is e.g. ``vendor:cli``, ``staff:3`` or ``member:12``."""

    __tablename__ = "audit_log"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)


Index("ix_audit_log_tenant_created", AuditEntry.tenant_id, AuditEntry.created_at)
