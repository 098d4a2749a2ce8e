"""A record of every import run: who, when, what file, counts and errors."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped


class ImportBatch(TenantScoped, db.Model):
    """One file import. ``status`` is ``ok`` or ``rejected`` (nothing written)."""

    __tablename__ = "import_batches"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(20), default="")
    actor: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="running")
    rows: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    finished_at: Mapped[dt.datetime | None]
