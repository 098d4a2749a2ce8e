"""Inquiries sent through 「メールでのお問い合わせ」, kept per city for its staff."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk

CATEGORIES = ("料金・使用量", "引越し・名義変更", "ポータルサイトの操作", "その他")
STATUS_NEW = "new"
STATUS_ANSWERED = "answered"
STATUS_LABELS = {STATUS_NEW: "未対応", STATUS_ANSWERED: "回答済み"}


class Inquiry(TenantScoped, db.Model):
    """One inquiry: what the citizen typed, who they were (a member, or nobody), and its status.

    ``member_id`` is set when a logged-in member sent it. Withdrawal clears it (the
    inquiry stays with the city, as the citizen wrote it): the composite foreign key has
    no ``ON DELETE SET NULL`` because that would null ``tenant_id`` too, so
    :func:`waterportal.inquiries.services.detach_member` does it before a member goes.
    """

    __tablename__ = "inquiries"
    __table_args__ = (
        tenant_fk(["member_id"], "members"),
        TenantScoped.tenant_key(),
        Index("ix_inquiries_tenant_status_created", "tenant_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    customer_number: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=STATUS_NEW)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    answered_at: Mapped[dt.datetime | None]
    # Who marked it answered (``staff:3``), for the console's history.
    answered_by: Mapped[str] = mapped_column(String(200), default="")

    @property
    def reference(self) -> str:
        """受付番号 as citizens and staff quote it: ``Q000042``."""
        return f"Q{self.id:06d}"

    @property
    def status_label(self) -> str:
        """未対応 / 回答済み."""
        return STATUS_LABELS.get(self.status, self.status)
