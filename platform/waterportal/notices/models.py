"""お知らせ published by a city, and its texts in other languages."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk


class Notice(TenantScoped, db.Model):
    """A plain-text notice shown between ``published_at`` and ``expires_at`` (UTC).

    With ``mail_members`` it is mailed once, when published, to members who opted in
    (``Member.notify_notices``); ``mailed_at`` makes that idempotent.
    """

    __tablename__ = "notices"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    important: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    expires_at: Mapped[dt.datetime | None]
    mail_members: Mapped[bool] = mapped_column(default=False)
    mailed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive, onupdate=utcnow_naive)


Index("ix_notices_tenant_published", Notice.tenant_id, Notice.published_at)


class NoticeText(TenantScoped, db.Model):
    """A notice's title and body in another language than Japanese (``en``, ``easy``; issue 13
    §10), written by staff next to the Japanese ones. Both are required: a language without a
    row is shown (and mailed) in Japanese with a note. Deleted with its notice."""

    __tablename__ = "notice_texts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "notice_id", "language"),
        TenantScoped.tenant_key(),
        tenant_fk(["notice_id"], "notices", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
