"""Writes to tenants: apply a definition (create or update), read tenant.toml files."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from waterportal.core import audit
from waterportal.core.errors import SettingsInvalid
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant, TenantHost
from waterportal.tenancy.registry import context_for
from waterportal.tenancy.schemas import validate_definition

TOP_LEVEL = ("slug", "name", "portal_name", "hosts", "enabled")


@dataclass
class ApplyResult:
    """What ``apply_definition`` did: ``created``, and the dotted keys that changed."""

    tenant: Tenant
    created: bool
    changes: list[str] = field(default_factory=list)


def read_definition(directory: Path) -> dict[str, Any]:
    """Read and validate ``directory/tenant.toml``; raise SettingsInvalid naming key and reason."""
    path = Path(directory) / "tenant.toml"
    if not path.is_file():
        raise SettingsInvalid({"tenant.toml": ["ファイルがありません"]}, source=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsInvalid({"tenant.toml": [f"TOML として読めません: {exc}"]}, source=str(path)) from exc
    try:
        return validate_definition(raw)
    except SettingsInvalid as exc:
        exc.source = str(path)
        raise SettingsInvalid(exc.errors, source=str(path)) from None


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        out: list[str] = []
        for key in keys:
            out += _diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if old == new else [prefix]


def settings_of(definition: dict[str, Any]) -> dict[str, Any]:
    """The part of a definition stored in ``Tenant.settings`` (everything but identity and hosts)."""
    return {k: v for k, v in definition.items() if k not in TOP_LEVEL}


def apply_definition(definition: dict[str, Any], actor: str = "vendor:cli") -> ApplyResult:
    """Create or update the tenant described by a validated definition (idempotent).

    Bumps ``version`` only when something changed, so every worker's host map and
    settings follow. Hosts already owned by another city are refused. The caller commits.
    """
    slug = definition["slug"]
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    created = tenant is None
    if created:
        tenant = Tenant(slug=slug, name="", portal_name="", settings={}, version=0)
        db.session.add(tenant)
    taken = db.session.scalars(
        select(TenantHost).where(TenantHost.host.in_(definition["hosts"]))
    ).all()
    clash = [h.host for h in taken if h.tenant_id != tenant.id]
    if clash:
        raise SettingsInvalid({"hosts": [f"他の市町村が使用中のホストです: {', '.join(clash)}"]})

    before = {
        "name": tenant.name,
        "portal_name": tenant.portal_name,
        "enabled": tenant.enabled,
        "hosts": [h.host for h in tenant.hosts],
        **(tenant.settings or {}),
    }
    after = {
        "name": definition["name"],
        "portal_name": definition["portal_name"],
        "enabled": definition["enabled"],
        "hosts": list(definition["hosts"]),
        **settings_of(definition),
    }
    changes = _diff(before, after) if not created else ["(new)"]
    if not changes:
        return ApplyResult(tenant, created=False)

    tenant.name = definition["name"]
    tenant.portal_name = definition["portal_name"]
    tenant.enabled = definition["enabled"]
    tenant.settings = settings_of(definition)
    existing = {h.host: h for h in tenant.hosts}
    for host in list(tenant.hosts):
        if host.host not in definition["hosts"]:
            tenant.hosts.remove(host)
    for index, name in enumerate(definition["hosts"]):
        host = existing.get(name)
        if host is None:
            host = TenantHost(host=name)
            tenant.hosts.append(host)
        host.is_primary = index == 0
    tenant.version = (tenant.version or 0) + 1
    db.session.flush()
    with tenant_context(context_for(tenant)):
        audit.record(actor, "tenant.apply", target=slug, changes=changes)
        db.session.flush()
    return ApplyResult(tenant, created=created, changes=changes)
