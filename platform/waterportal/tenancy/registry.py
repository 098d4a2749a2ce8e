"""The in-memory map of hosts -> tenants that every worker keeps.

It is rebuilt when the stamp (number of tenants, sum of their versions) changes.
Every change to a tenant or its hosts goes through :mod:`waterportal.provisioning.services`,
which bumps ``Tenant.version``, so each worker notices within ``TENANT_REFRESH_SECONDS``
without a restart and without a query per request.
"""
from __future__ import annotations

import logging
import threading
import time
from types import MappingProxyType
from typing import Any

import click
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from waterportal.core.database import is_unavailable
from waterportal.core.exceptions import SettingsInvalid
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.schemas import effective_settings

log = logging.getLogger("waterportal.tenancy")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def merged_settings(tenant: Tenant) -> dict[str, Any]:
    """The city's effective settings: tenant.toml (``Tenant.settings``) <- console overrides.

    Overrides that no longer validate against a newer tenant.toml are skipped (logged),
    so a vendor change can never take a city down.
    """
    try:
        settings, skipped = effective_settings(tenant.settings or {}, tenant.overrides or {})
    except SettingsInvalid as exc:
        log.error("tenant %s: stored settings do not validate (%s); using them as stored", tenant.slug, exc)
        return dict(tenant.settings or {})
    if skipped:
        log.warning("tenant %s: ignoring invalid console overrides of %s", tenant.slug, ", ".join(skipped))
    return settings


def context_for(tenant: Tenant) -> TenantContext:
    """Build the immutable context of a tenant row (with its effective, merged settings)."""
    return TenantContext(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        portal_name=tenant.portal_name,
        settings=_freeze(merged_settings(tenant)),
        version=tenant.version,
        primary_host=tenant.primary_host,
        enabled=tenant.enabled,
    )


class TenantRegistry:
    """Hosts and slugs -> :class:`TenantContext`, refreshed when the stamp moves."""

    def __init__(self, refresh_seconds: float):
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._by_host: dict[str, TenantContext] = {}
        self._by_slug: dict[str, TenantContext] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked_at = 0.0

    def _current_stamp(self) -> tuple[int, int]:
        count, total = db.session.execute(
            select(func.count(Tenant.id), func.coalesce(func.sum(Tenant.version), 0))
        ).one()
        return int(count), int(total)

    def refresh(self, force: bool = False) -> None:
        """Reload the map if the stamp changed (checked at most every ``refresh_seconds``)."""
        now = time.monotonic()
        if not force and self._stamp is not None and now - self._checked_at < self.refresh_seconds:
            return
        try:
            stamp = self._current_stamp()
        except DBAPIError as exc:
            if self._stamp is None or not is_unavailable(exc):
                raise
            # The database is away: keep serving the cities as last seen, so each answers
            # with its own 503 page (core/errors.py), and look again after the interval.
            db.session.rollback()
            self._checked_at = now
            log.warning("tenant map not refreshed, database unavailable: %s", str(exc).splitlines()[0])
            return
        self._checked_at = now
        if stamp == self._stamp and not force:
            return
        tenants = db.session.scalars(select(Tenant)).all()
        by_host, by_slug = {}, {}
        for tenant in tenants:
            ctx = context_for(tenant)
            by_slug[tenant.slug] = ctx
            for host in tenant.hosts:
                by_host[host.host] = ctx
        with self._lock:
            self._by_host, self._by_slug, self._stamp = by_host, by_slug, stamp

    def by_host(self, host: str) -> TenantContext | None:
        """Return the tenant for a normalised host, or ``None``."""
        self.refresh()
        return self._by_host.get(host)

    def by_slug(self, slug: str) -> TenantContext | None:
        """Return the tenant with this slug (CLI, workers), or ``None``."""
        self.refresh()
        return self._by_slug.get(slug)

    def all(self) -> list[TenantContext]:
        """Every tenant, ordered by slug."""
        self.refresh()
        return sorted(self._by_slug.values(), key=lambda t: t.slug)


def get_registry() -> TenantRegistry:
    """The registry of the current app."""
    return current_app.extensions["waterportal.tenants"]


def city_for_command(slug: str, option: str = "--tenant") -> TenantContext:
    """The city a CLI command names by slug; an unknown slug is the command's usage error."""
    tenant = get_registry().by_slug(slug)
    if tenant is None:
        raise click.BadParameter(f"no city with slug {slug!r} (see `flask tenant list`)", param_hint=option)
    return tenant
