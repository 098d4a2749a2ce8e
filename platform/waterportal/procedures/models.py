"""Procedure requests (各種お手続き), their status history, their attachments and the
per-city counter of 受付番号.

Design: docs/procedures.md. Every table is city-owned (``TenantScoped``) with the
``UNIQUE (tenant_id, id)`` key and composite foreign keys, so no row can point at another
city's member, contract, staff member or request, even in raw SQL.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk

STATUS_RECEIVED = "received"
STATUS_IN_PROGRESS = "in_progress"
STATUS_RETURNED = "returned"
STATUS_COMPLETED = "completed"
STATUS_WITHDRAWN = "withdrawn"
STATUS_LABELS = {
    STATUS_RECEIVED: "受付",
    STATUS_IN_PROGRESS: "処理中",
    STATUS_RETURNED: "差戻し",
    STATUS_COMPLETED: "完了",
    STATUS_WITHDRAWN: "取下げ",
}
# Where each status may go next (staff, the billing system's answer, the citizen's resubmit
# or withdrawal). 完了 and 取下げ are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    STATUS_RECEIVED: frozenset({STATUS_IN_PROGRESS, STATUS_RETURNED, STATUS_COMPLETED, STATUS_WITHDRAWN}),
    STATUS_IN_PROGRESS: frozenset({STATUS_RETURNED, STATUS_COMPLETED, STATUS_WITHDRAWN}),
    STATUS_RETURNED: frozenset({STATUS_RECEIVED, STATUS_IN_PROGRESS, STATUS_WITHDRAWN}),
    STATUS_COMPLETED: frozenset(),
    STATUS_WITHDRAWN: frozenset(),
}
OPEN_STATUSES = (STATUS_RECEIVED, STATUS_IN_PROGRESS, STATUS_RETURNED)

# Who caused an event (``ProcedureEvent.actor_kind``).
ACTOR_APPLICANT = "applicant"  # the citizen (a member or a verified anonymous applicant)
ACTOR_STAFF = "staff"
ACTOR_VENDOR = "vendor"
ACTOR_SYSTEM = "system"  # the billing system's answer (import-status), the CLI
ACTOR_LABELS = {ACTOR_APPLICANT: "お客さま", ACTOR_STAFF: "職員", ACTOR_VENDOR: "職員", ACTOR_SYSTEM: "料金システム"}


class ProcedureRequest(TenantScoped, db.Model):
    """One procedure a citizen filed, from 受付 to 完了.

    ``payload`` holds the kind's validated fields (see ``kinds.py``); the kind's
    ``sensitive`` fields are stored encrypted (``services.encrypt_field``). ``member_id`` is
    None for an applicant without an account (使用開始, anonymous 使用中止) and after the
    member withdrew (``services.detach_member``: the composite key cannot ``SET NULL``
    without nulling ``tenant_id``). ``exported_at``/``export_batch`` mark the export to the
    billing system (every row once).
    """

    __tablename__ = "procedure_requests"
    __table_args__ = (
        TenantScoped.tenant_key(),
        UniqueConstraint("tenant_id", "receipt_number"),
        tenant_fk(["member_id"], "members"),
        tenant_fk(["contract_id"], "contracts"),
        tenant_fk(["assignee_id"], "staff_members"),
        # The staff queue: by status, oldest first.
        Index("ix_procedure_requests_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_procedure_requests_tenant_member", "tenant_id", "member_id"),
        Index("ix_procedure_requests_tenant_fingerprint", "tenant_id", "fingerprint"),
        Index("ix_procedure_requests_tenant_exported", "tenant_id", "exported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    receipt_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=STATUS_RECEIVED)
    member_id: Mapped[int | None]
    contract_id: Mapped[int | None] = mapped_column(BIG_ID)
    customer_number: Mapped[str] = mapped_column(String(20), default="")
    applicant_email: Mapped[str] = mapped_column(String(254))
    applicant_name: Mapped[str] = mapped_column(String(100), default="")
    applicant_kana: Mapped[str] = mapped_column(String(100), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # HMAC of what identifies a submission (kind, applicant, contract, payload): an identical
    # submission within procedures.duplicate_window_minutes returns the first.
    fingerprint: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int | None]
    exported_at: Mapped[dt.datetime | None]
    export_batch: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    # Set (not stored) by services.submit_procedure when it recognised a repeat submission.
    duplicate = False

    @property
    def status_label(self) -> str:
        """受付 / 処理中 / 差戻し / 完了 / 取下げ."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ProcedureEvent(TenantScoped, db.Model):
    """One step of a request's status history (the first is its 受付)."""

    __tablename__ = "procedure_events"
    __table_args__ = (
        TenantScoped.tenant_key(),
        tenant_fk(["request_id"], "procedure_requests", ondelete="CASCADE"),
        Index("ix_procedure_events_tenant_request", "tenant_id", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    # The city's message to the citizen (差戻しの理由, 完了の案内) or the citizen's note.
    message: Mapped[str] = mapped_column(Text, default="")
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def actor_label(self) -> str:
        return ACTOR_LABELS.get(self.actor_kind, self.actor_kind)


class ProcedureAttachment(TenantScoped, db.Model):
    """A file sent with a request (a photo of the repaired pipe, a receipt): checked for type
    and size on upload, served only to the member who filed it and to the city's staff."""

    __tablename__ = "procedure_attachments"
    __table_args__ = (
        TenantScoped.tenant_key(),
        tenant_fk(["request_id"], "procedure_requests", ondelete="CASCADE"),
        Index("ix_procedure_attachments_tenant_request", "tenant_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int]
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)


class ProcedureCounter(TenantScoped, db.Model):
    """The last 受付番号 a city gave in a year: ``R2026-000123`` is number 123 of 2026.

    Allocation (``services.allocate_receipt_number``) increments the row in an UPDATE, so
    two submissions at once queue on the row's lock and never get the same number."""

    __tablename__ = "procedure_counters"
    __table_args__ = (TenantScoped.tenant_key(), UniqueConstraint("tenant_id", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class ProcedureDailySummary(TenantScoped, db.Model):
    """The daily summary mail of a city's procedures, one row per city and city-local day:
    the unique key is what makes ``flask procedures daily-summary`` send it once a day,
    even when cron runs it twice or two runs overlap (``procedures/summary.py``)."""

    __tablename__ = "procedure_daily_summaries"
    __table_args__ = (TenantScoped.tenant_key(), UniqueConstraint("tenant_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date]
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
