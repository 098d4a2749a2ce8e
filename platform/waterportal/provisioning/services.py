"""Writes to tenants: apply a definition (create or update), read tenant.toml files."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from waterportal.audit import services as audit
from waterportal.core.exceptions import SettingsInvalid
from waterportal.extensions import db
from waterportal.provisioning.toml_writer import dumps
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.gate import vendor_hosts
from waterportal.tenancy.hosts import normalise_host
from waterportal.tenancy.models import Tenant, TenantHost
from waterportal.tenancy.registry import context_for, effective_record, merged_settings
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


def reserved_hosts() -> frozenset[str]:
    """Hosts no city may claim: the vendor console's (config ``VENDOR_HOSTS``)."""
    return vendor_hosts()


def apply_definition(definition: dict[str, Any], actor: str = "vendor:cli") -> ApplyResult:
    """Create or update the tenant described by a validated definition (idempotent).

    Bumps ``version`` only when something changed, so every worker's host map and
    settings follow. Hosts already owned by another city are refused. The caller commits.
    """
    slug = definition["slug"]
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    created = tenant is None
    taken = db.session.scalars(
        select(TenantHost).where(TenantHost.host.in_(definition["hosts"]))
    ).all()
    if created:
        tenant = Tenant(slug=slug, name="", portal_name="", settings={}, version=0)
        db.session.add(tenant)
    clash = [h.host for h in taken if h.tenant_id != tenant.id]
    reserved = sorted(set(definition["hosts"]) & reserved_hosts())
    if reserved:
        raise SettingsInvalid({"hosts": [f"ベンダー管理画面用に予約されたホストです: {', '.join(reserved)}"]})
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
        record = effective_record(slug, tenant.settings, tenant.overrides)
        if tenant.effective != record:  # written before the column, or by an older schema
            tenant.effective = record
        return ApplyResult(tenant, created=False)

    tenant.name = definition["name"]
    tenant.portal_name = definition["portal_name"]
    tenant.enabled = definition["enabled"]
    tenant.settings = settings_of(definition)
    tenant.effective = effective_record(slug, tenant.settings, tenant.overrides)
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


# --- Vendor operations on a running city (flask tenant add-host / disable / enable / export / check)


def get_tenant(slug: str) -> Tenant:
    """The tenant row with ``slug``; raise SettingsInvalid naming the slug when there is none."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise SettingsInvalid({"slug": [f"市町村がありません: {slug}"]})
    return tenant


def _audit(tenant: Tenant, actor: str, action: str, **detail: Any) -> None:
    with tenant_context(context_for(tenant)):
        audit.record(actor, action, target=tenant.slug, **detail)
        db.session.flush()


def add_host(slug: str, raw_host: str, actor: str = "vendor:cli") -> bool:
    """Add a (normalised) host to a city; False when it already has it. Bumps ``version``.

    Refused (SettingsInvalid on ``host``) when it is no hostname or another city owns it.
    The caller commits.
    """
    tenant = get_tenant(slug)
    try:
        host = normalise_host(raw_host)
    except ValueError:
        raise SettingsInvalid({"host": [f"ホスト名が正しくありません: {raw_host}"]}) from None
    if host in reserved_hosts():
        raise SettingsInvalid({"host": [f"ベンダー管理画面用に予約されたホストです: {host}"]})
    owner = db.session.scalar(select(TenantHost).where(TenantHost.host == host))
    if owner is not None and owner.tenant_id != tenant.id:
        raise SettingsInvalid({"host": [f"他の市町村が使用中のホストです: {host}"]})
    if owner is not None:
        return False
    tenant.hosts.append(TenantHost(host=host, is_primary=not tenant.hosts))
    tenant.version += 1
    db.session.flush()
    _audit(tenant, actor, "tenant.add_host", host=host)
    return True


def set_enabled(slug: str, enabled: bool, actor: str = "vendor:cli") -> bool:
    """Enable or disable a city (its data is kept); False when it already was. Bumps ``version``.

    A disabled city answers every page, its console included, with its notice page (503).
    """
    tenant = get_tenant(slug)
    if tenant.enabled == enabled:
        return False
    tenant.enabled = enabled
    tenant.version += 1
    db.session.flush()
    _audit(tenant, actor, "tenant.enable" if enabled else "tenant.disable")
    return True


def export_definition(slug: str, with_overrides: bool = False) -> dict[str, Any]:
    """The city's definition as ``tenant apply`` stored it: identity, hosts (primary first)
    and settings, defaults filled in. ``with_overrides`` merges the console's overrides
    (the settings the city runs with now)."""
    tenant = get_tenant(slug)
    hosts = sorted(tenant.hosts, key=lambda h: (not h.is_primary, h.id))
    settings = merged_settings(tenant) if with_overrides else dict(tenant.settings or {})
    return {
        "slug": tenant.slug, "name": tenant.name, "portal_name": tenant.portal_name,
        "hosts": [h.host for h in hosts], "enabled": tenant.enabled, **settings,
    }


def export_toml(slug: str, with_overrides: bool = False) -> str:
    """:func:`export_definition` as a tenant.toml document; the console overrides not
    included are listed in comments, so nothing is hidden from the reader."""
    tenant = get_tenant(slug)
    header = [f"{tenant.name}: exported from the database by `flask tenant export {slug}` (version {tenant.version})."]
    if with_overrides:
        header.append("Includes the city admin's console overrides (applying it writes them into the file's layer).")
    elif tenant.overrides:
        header.append("Console overrides in effect, not part of this file (they stay in the database):")
        header += [f"  {key} = {value}" for key, value in _dotted(tenant.overrides)]
    return dumps(export_definition(slug, with_overrides), header="\n".join(header))


def _dotted(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        out += _dotted(value, name) if isinstance(value, dict) else [(name, value)]
    return out


def check_definitions(tenants_dir: Path) -> list[tuple[Path, dict[str, list[str]]]]:
    """Validate every ``tenants_dir/*/tenant.toml``: (path, errors by dotted key) for each.

    Besides the schema: the slug must be the folder's name, and no host may be claimed
    by two files.
    """
    results: list[tuple[Path, dict[str, list[str]]]] = []
    claimed: dict[str, Path] = {}
    for directory in sorted(p for p in Path(tenants_dir).iterdir() if p.is_dir()):
        path = directory / "tenant.toml"
        if not path.is_file():
            continue
        try:
            definition = read_definition(directory)
        except SettingsInvalid as exc:
            results.append((path, exc.errors))
            continue
        errors: dict[str, list[str]] = {}
        if definition["slug"] != directory.name:
            errors["slug"] = [f"フォルダ名 ({directory.name}) と一致しません: {definition['slug']}"]
        for host in definition["hosts"]:
            other = claimed.setdefault(host, path)
            if other != path:
                errors.setdefault("hosts", []).append(f"{other} と重複しています: {host}")
        results.append((path, errors))
    return results
