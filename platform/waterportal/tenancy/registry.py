"""The in-memory map of hosts -> tenants that every worker keeps.

It is reloaded when the stamp (number of tenants, sum of their versions) changes.
Every change to a tenant or its hosts goes through :mod:`waterportal.provisioning.services`
(or the admin console), which bumps ``Tenant.version``, so each worker notices within
``TENANT_REFRESH_SECONDS`` without a restart and without a query per request.

Sized for every city of the country (1,741) on one deployment:

* a reload is a constant number of statements (the stamp, then every city's id, slug and
  version and every host in two queries), never one per city;
* a city's :class:`TenantContext` (its settings) is built the first time a request, command
  or job asks for it and kept until its version moves, so a worker serving 200 cities holds
  200 of them, and a reload rebuilds only the cities that changed;
* the settings are taken from ``Tenant.effective``, validated and merged when they were
  written (:func:`effective_record`); the schema runs here only for a row written before
  that column or by an older release (its key does not match).
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

import click
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from waterportal.core.database import is_unavailable
from waterportal.core.exceptions import SettingsInvalid
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import Tenant, TenantHost
from waterportal.tenancy.schemas import SCHEMA_FINGERPRINT, effective_settings

log = logging.getLogger("waterportal.tenancy")

# The columns a context is built from (no relationship: hosts come from the host map).
_ROW = (Tenant.id, Tenant.slug, Tenant.name, Tenant.portal_name, Tenant.settings, Tenant.overrides,
        Tenant.effective, Tenant.version, Tenant.enabled)
# Above this many missing cities, one query for all rows beats a long IN list.
_IN_LIMIT = 200


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _merge(slug: str, settings: dict[str, Any] | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    try:
        merged, skipped = effective_settings(settings or {}, overrides or {})
    except SettingsInvalid as exc:
        log.error("tenant %s: stored settings do not validate (%s); using them as stored", slug, exc)
        return dict(settings or {})
    if skipped:
        log.warning("tenant %s: ignoring invalid console overrides of %s", slug, ", ".join(skipped))
    return merged


def merged_settings(tenant: Tenant) -> dict[str, Any]:
    """The city's effective settings: tenant.toml (``Tenant.settings``) <- console overrides.

    Overrides that no longer validate against a newer tenant.toml are skipped (logged),
    so a vendor change can never take a city down.
    """
    return _merge(tenant.slug, tenant.settings, tenant.overrides)


def _source_key(settings: dict[str, Any] | None, overrides: dict[str, Any] | None) -> str:
    # What the effective settings were computed from, and with which schema: a row whose
    # settings or overrides were changed by any other path no longer matches its record.
    source = json.dumps([SCHEMA_FINGERPRINT, settings or {}, overrides or {}], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(source.encode()).hexdigest()


def effective_record(slug: str, settings: dict[str, Any] | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The value of ``Tenant.effective`` for these layers: the merged, validated settings and
    the key of what they came from. Every writer of ``settings`` or ``overrides`` stores it."""
    return {"key": _source_key(settings, overrides), "settings": _merge(slug, settings, overrides)}


def _settings_of_row(slug: str, settings: Any, overrides: Any, effective: Any) -> dict[str, Any]:
    if isinstance(effective, dict) and effective.get("key") == _source_key(settings, overrides):
        return effective["settings"]
    return _merge(slug, settings, overrides)


def _context(row: Any, primary_host: str) -> TenantContext:
    # ``row``: a Tenant, or a result row of the _ROW columns (the same attribute names).
    return TenantContext(
        id=row.id, slug=row.slug, name=row.name, portal_name=row.portal_name,
        settings=_freeze(_settings_of_row(row.slug, row.settings, row.overrides, row.effective)),
        version=row.version, primary_host=primary_host, enabled=row.enabled,
    )


def context_for(tenant: Tenant) -> TenantContext:
    """Build the immutable context of a tenant row (with its effective, merged settings)."""
    return _context(tenant, tenant.primary_host)


class TenantRegistry:
    """Hosts and slugs -> :class:`TenantContext`, refreshed when the stamp moves."""

    def __init__(self, refresh_seconds: float):
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._by_host: dict[str, int] = {}  # host -> tenant id
        self._by_slug: dict[str, int] = {}
        self._versions: dict[int, int] = {}  # tenant id -> version when the map was read
        self._primary: dict[int, str] = {}
        self._contexts: dict[int, TenantContext] = {}  # built on first use
        self._stamp: tuple[int, int] | None = None
        self._checked_at = 0.0

    def _current_stamp(self) -> tuple[int, int]:
        count, total = db.session.execute(
            select(func.count(Tenant.id), func.coalesce(func.sum(Tenant.version), 0))
        ).one()
        return int(count), int(total)

    def refresh(self, force: bool = False) -> None:
        """Reload the map if the stamp changed (checked at most every ``refresh_seconds``).

        ``force`` also forgets every built context (tests roll versions back).
        """
        now = time.monotonic()
        if not force and self._stamp is not None and now - self._checked_at < self.refresh_seconds:
            return
        try:
            stamp = self._current_stamp()
        except SQLAlchemyError as exc:
            if self._stamp is None or not is_unavailable(exc):
                raise
            # The database is away: keep serving the cities as last seen, so each answers
            # with its own 503 page (core/errors.py), and look again after the interval.
            try:
                db.session.rollback()
            except SQLAlchemyError:
                pass  # the connection is gone: the pool replaces it (invalidated on the disconnect)
            self._checked_at = now
            log.warning("tenant map not refreshed, database unavailable: %s", str(exc).splitlines()[0])
            return
        self._checked_at = now
        if stamp == self._stamp and not force:
            return
        tenants = db.session.execute(select(Tenant.id, Tenant.slug, Tenant.version)).all()
        hosts = db.session.execute(
            select(TenantHost.tenant_id, TenantHost.host, TenantHost.is_primary).order_by(TenantHost.id)
        ).all()
        versions = {id_: version for id_, _, version in tenants}
        by_slug = {slug: id_ for id_, slug, _ in tenants}
        by_host: dict[str, int] = {}
        first: dict[int, str] = {}
        marked: dict[int, str] = {}
        for tenant_id, host, is_primary in hosts:
            by_host[host] = tenant_id
            first.setdefault(tenant_id, host)
            if is_primary:
                marked.setdefault(tenant_id, host)
        primary = {**first, **marked}  # as Tenant.primary_host: the marked one, else the first
        with self._lock:
            # Keep the contexts of the cities whose version did not move.
            kept = {} if force else {
                id_: ctx for id_, ctx in self._contexts.items()
                if versions.get(id_) == ctx.version and primary.get(id_, "") == ctx.primary_host
            }
            self._by_host, self._by_slug, self._versions = by_host, by_slug, versions
            self._primary, self._contexts, self._stamp = primary, kept, stamp

    def _build(self, ids: Iterable[int]) -> None:
        """Build the contexts of these cities in one query."""
        ids = [i for i in ids if i not in self._contexts]
        if not ids:
            return
        query = select(*_ROW)
        if len(ids) <= _IN_LIMIT:
            query = query.where(Tenant.id.in_(ids))
        wanted = set(ids)
        built = {}
        for row in db.session.execute(query):
            if row.id not in wanted:
                continue
            built[row.id] = _context(row, self._primary.get(row.id, ""))
        with self._lock:
            for id_, ctx in built.items():
                # A map read meanwhile may know a newer version: then this one is not kept.
                if self._versions.get(id_, ctx.version) <= ctx.version:
                    self._contexts.setdefault(id_, ctx)

    def _get(self, tenant_id: int | None) -> TenantContext | None:
        if tenant_id is None:
            return None
        ctx = self._contexts.get(tenant_id)
        if ctx is None:
            self._build([tenant_id])
            ctx = self._contexts.get(tenant_id)
        return ctx  # None only if the city was removed since the map was read

    def by_host(self, host: str) -> TenantContext | None:
        """Return the tenant for a normalised host, or ``None``."""
        self.refresh()
        return self._get(self._by_host.get(host))

    def by_slug(self, slug: str) -> TenantContext | None:
        """Return the tenant with this slug (CLI, workers), or ``None``."""
        self.refresh()
        return self._get(self._by_slug.get(slug))

    def all(self) -> list[TenantContext]:
        """Every tenant, ordered by slug (built in one query for those not built yet)."""
        self.refresh()
        ids = list(self._by_slug.values())
        self._build(ids)
        contexts = [self._contexts.get(i) for i in ids]
        return sorted((c for c in contexts if c is not None), key=lambda t: t.slug)


def get_registry() -> TenantRegistry:
    """The registry of the current app."""
    return current_app.extensions["waterportal.tenants"]


def city_for_command(slug: str, option: str = "--tenant") -> TenantContext:
    """The city a CLI command names by slug; an unknown slug is the command's usage error."""
    tenant = get_registry().by_slug(slug)
    if tenant is None:
        raise click.BadParameter(f"no city with slug {slug!r} (see `flask tenant list`)", param_hint=option)
    return tenant
