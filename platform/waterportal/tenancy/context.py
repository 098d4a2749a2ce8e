"""The explicit tenant context.

A :class:`TenantContext` lives in a :class:`~contextvars.ContextVar` so a request,
a CLI command and the mail worker all run under one named city; tenant-owned
queries without one fail loudly (see :mod:`waterportal.tenancy.isolation`).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from waterportal.core.exceptions import NoTenantContext


@dataclass(frozen=True)
class TenantContext:
    """Immutable snapshot of one city: id, slug, validated settings and their version."""

    id: int
    slug: str
    name: str
    portal_name: str
    settings: Mapping[str, Any] = field(repr=False)
    version: int
    primary_host: str
    enabled: bool = True

    def section(self, name: str) -> Mapping[str, Any]:
        """Return one settings section (``login``, ``registration``, ...)."""
        return self.settings.get(name) or MappingProxyType({})

    @property
    def login_mode(self) -> str:
        return self.settings["login"]["mode"]

    @property
    def timezone(self) -> str:
        return self.settings["timezone"]

    @property
    def theme(self) -> str:
        return self.settings["theme"]


_current: ContextVar[TenantContext | None] = ContextVar("waterportal_tenant", default=None)


def current_tenant() -> TenantContext:
    """Return the tenant of this request, command or job; raise if there is none."""
    tenant = _current.get()
    if tenant is None:
        raise NoTenantContext("no tenant context: wrap the work in tenant_context(...)")
    return tenant


def current_tenant_or_none() -> TenantContext | None:
    """Return the tenant context or ``None`` (for code that also runs platform-wide)."""
    return _current.get()


@contextlib.contextmanager
def tenant_context(tenant: TenantContext) -> Iterator[TenantContext]:
    """Run a block under ``tenant``; restores the previous context afterwards."""
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)


def set_tenant(tenant: TenantContext | None):
    """Set the context for the rest of this request; returns the token to reset it."""
    return _current.set(tenant)


def reset_tenant(token) -> None:
    """Undo :func:`set_tenant`."""
    _current.reset(token)

