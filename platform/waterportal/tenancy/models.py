"""Tenants (cities), their hosts, and the TenantScoped mixin every city-owned table uses."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db


class Tenant(db.Model):
    """One city. ``settings`` holds the validated tenant.toml sections; ``version`` bumps on change.

    ``overrides`` holds the city admin's changes (city-owned keys only, see
    ``schemas.CITY_OWNED``); the effective settings are ``settings`` <- ``overrides``.
    ``tenant apply`` rewrites ``settings`` and never touches ``overrides``.
    ``effective`` caches that merge, validated when it was written (see
    ``registry.effective_record``), so loading 1,741 cities validates none of them.
    """

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    portal_name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    effective: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(default=1)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive, onupdate=utcnow_naive)

    hosts: Mapped[list[TenantHost]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantHost.id"
    )

    @property
    def primary_host(self) -> str:
        for host in self.hosts:
            if host.is_primary:
                return host.host
        return self.hosts[0].host if self.hosts else ""


class TenantHost(db.Model):
    """A hostname that selects a city. Hosts are stored normalised (see tenancy.hosts)."""

    __tablename__ = "tenant_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False)

    tenant: Mapped[Tenant] = relationship(back_populates="hosts")


class TenantScoped:
    """Mixin for every city-owned table.

    Adds ``tenant_id NOT NULL``. Every such table also lists :meth:`tenant_key` (the
    ``(tenant_id, id)`` unique key composite foreign keys point at, and Citus's primary key:
    :mod:`waterportal.tenancy.distribution`) in its ``__table_args__``.
    Reads are filtered and writes stamped by the hooks in :mod:`waterportal.tenancy.isolation`.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr
        return mapped_column(ForeignKey("tenants.id"), nullable=False)

    @classmethod
    def tenant_key(cls) -> UniqueConstraint:
        """The ``UNIQUE (tenant_id, id)`` target for composite foreign keys."""
        return UniqueConstraint("tenant_id", "id")


def tenant_fk(columns: list[str], target: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A composite foreign key ``(tenant_id, col) -> target(tenant_id, id)``.

    It makes a cross-city reference impossible in the database itself.
    """
    return ForeignKeyConstraint(
        ["tenant_id", *columns], [f"{target}.tenant_id", f"{target}.id"], ondelete=ondelete
    )


def city_login_session_args(table: str, account_column: str, account_table: str) -> tuple:
    """The constraints of a city's login-session table (members, staff): the key unique in
    the city, the account by a composite foreign key, and the index that finds an account's
    sessions (``ix_<table>_tenant_<account>``)."""
    account = account_column.removesuffix("_id")
    return (
        UniqueConstraint("tenant_id", "key_hash"),
        TenantScoped.tenant_key(),
        tenant_fk([account_column], account_table, ondelete="CASCADE"),
        Index(f"ix_{table}_tenant_{account}", "tenant_id", account_column),
    )


class TenantAsset(TenantScoped, db.Model):
    """A file a city admin uploaded (its logo), served at ``/_tenant/uploads/<name>``.

    Kept in the database rather than on disk so every worker on every machine serves it
    and a settings rollback can point back at an older logo: names are content-addressed
    (``<sha256 prefix>.<ext>``) and rows are never changed.
    """

    __tablename__ = "tenant_assets"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), TenantScoped.tenant_key())

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
