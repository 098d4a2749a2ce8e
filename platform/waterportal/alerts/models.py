"""An area alert, its areas (町名/丁目) and the members' mail opt-outs per kind."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk


class AreaAlert(TenantScoped, db.Model):
    """A 断水 / 濁水 / 工事 / その他 alert shown from ``starts_at`` until ``ends_at`` (UTC) to the
    members whose linked contracts lie in its areas, and mailed once when published.

    ``matched_contracts`` and ``matched_members`` are counted when it is published (the
    console's 「対象」); ``withdrawn_at`` ends it early (the banner goes at once)."""

    __tablename__ = "area_alerts"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    matched_contracts: Mapped[int] = mapped_column(default=0)
    matched_members: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(40))


Index("ix_area_alerts_tenant_period", AreaAlert.tenant_id, AreaAlert.ends_at)


class AreaAlertArea(TenantScoped, db.Model):
    """One 町名/丁目 of an alert, compared by equality with ``contracts.address_area``."""

    __tablename__ = "area_alert_areas"
    __table_args__ = (
        UniqueConstraint("tenant_id", "alert_id", "area"),
        TenantScoped.tenant_key(),
        tenant_fk(["alert_id"], "area_alerts", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int]
    area: Mapped[str] = mapped_column(String(100))


Index("ix_area_alert_areas_tenant_area", AreaAlertArea.tenant_id, AreaAlertArea.area)


class AreaAlertText(TenantScoped, db.Model):
    """An alert's title and body in another language than Japanese (``en``, ``easy``; issue 13
    §10), as notices have them (notices/models.py ``NoticeText``): a language without a row is
    shown and mailed in Japanese with a note. Deleted with its alert."""

    __tablename__ = "area_alert_texts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "alert_id", "language"),
        TenantScoped.tenant_key(),
        tenant_fk(["alert_id"], "area_alerts", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class AreaAlertOptOut(TenantScoped, db.Model):
    """A member who wants no mail for alerts of ``kind`` (the banner still shows)."""

    __tablename__ = "area_alert_optouts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "kind"),
        TenantScoped.tenant_key(),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
