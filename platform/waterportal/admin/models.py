"""City staff (separate from citizens), their server-side sessions, and settings revisions."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.auth.columns import ConsoleAccountColumns, LoginSessionColumns, UnlockLinkColumns
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, city_login_session_args

ROLES = {"admin": "管理者", "operator": "オペレーター"}


class StaffMember(ConsoleAccountColumns, TenantScoped, db.Model):
    """A city employee with console access. Email is unique per city only."""

    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("tenant_id", "email"), TenantScoped.tenant_key())

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20), default="operator")
    # Set when the password was generated for them (CLI, console): changed at first login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Set on the account a vendor staff member uses in this city, created by the vendor
    # console's one-time link (vendor_console/links.py); it has no usable password.
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_staff.id", ondelete="SET NULL"))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """The audit log's name for this staff member (``vendor:<id>`` for a vendor's account)."""
        return f"vendor:{self.vendor_id}" if self.vendor_id else f"staff:{self.id}"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class StaffSession(LoginSessionColumns, TenantScoped, db.Model):
    """One staff login; the cookie holds a random key whose SHA-256 is stored here."""

    __tablename__ = "staff_sessions"
    __table_args__ = city_login_session_args("staff_sessions", "staff_id", "staff_members")

    staff_id: Mapped[int]


class StaffUnlockLink(UnlockLinkColumns, TenantScoped, db.Model):
    """A mailed link that makes one browser a known device of the staff member (core/auth/unlock.py)."""

    __tablename__ = "staff_unlock_links"
    __table_args__ = city_login_session_args("staff_unlock_links", "staff_id", "staff_members")

    staff_id: Mapped[int]


class SettingsRevision(TenantScoped, db.Model):
    """One change of a city's console overrides: who, when, what (old -> new), and the result.

    ``overrides`` is the complete override layer after the change, so a rollback to this
    revision restores exactly it. ``changes`` lists ``{"key", "old", "new"}`` of the
    effective settings.
    """

    __tablename__ = "settings_revisions"
    __table_args__ = (UniqueConstraint("tenant_id", "number"), TenantScoped.tenant_key())

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    actor: Mapped[str] = mapped_column(String(200))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(20), default="change")  # change | rollback
    group: Mapped[str] = mapped_column(String(40), default="")
    restored_from: Mapped[int | None]
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
