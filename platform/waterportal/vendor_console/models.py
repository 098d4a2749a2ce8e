"""Vendor staff (the platform operator's people), their sessions and one-time city links.

None of these tables is tenant-scoped: vendor staff belong to no city. What a vendor does
inside a city goes through that city's console as a staff member of the city
(``StaffMember.vendor_id``), recorded in that city's audit log as ``vendor:<id>``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.auth.columns import ConsoleAccountColumns, LoginSessionColumns
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db


class VendorStaff(ConsoleAccountColumns, db.Model):
    """A vendor employee with access to the vendor console (``VENDOR_HOSTS``)."""

    __tablename__ = "vendor_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")

    @property
    def actor(self) -> str:
        """The audit log's name for this vendor staff member (in every city's log)."""
        return f"vendor:{self.id}"


class VendorSession(LoginSessionColumns, db.Model):
    """One vendor login; the cookie holds a random key whose SHA-256 is stored here."""

    __tablename__ = "vendor_sessions"
    __table_args__ = (UniqueConstraint("key_hash"),)  # platform-wide: vendors belong to no city

    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_staff.id", ondelete="CASCADE"), index=True)


class VendorCityLink(db.Model):
    """A one-time link from the vendor console into one city's console.

    The random key travels in the URL once; only its SHA-256 is stored. It works once,
    for ``VENDOR_LINK_SECONDS``, on that city's host only.
    """

    __tablename__ = "vendor_city_links"
    # A city-owned row (it carries tenant_id): unique in its city, and the (tenant_id, id) key
    # every city-owned table has (Citus co-location, tenancy/distribution.py).
    __table_args__ = (UniqueConstraint("tenant_id", "key_hash"), UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_staff.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


Index("ix_vendor_city_links_tenant", VendorCityLink.tenant_id, VendorCityLink.created_at)
