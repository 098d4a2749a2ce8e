"""City-admin settings: the override layer, its revisions, and rollbacks.

Effective settings = tenant.toml (``Tenant.settings``, written by ``tenant apply``) <-
``Tenant.overrides`` (written here). The override layer keeps only the city-owned keys
whose value differs from tenant.toml, so every key the city never changed still follows
tenant.toml. Each change:

1. is validated as a whole (the merged settings must load through the schema) - nothing
   is half-saved;
2. swaps ``overrides`` and bumps ``Tenant.version`` in one compare-and-set UPDATE, so two
   admins saving at once cannot silently overwrite each other, and every worker's registry
   reloads the city within TENANT_REFRESH_SECONDS;
3. is stored as a :class:`SettingsRevision` (who, when, the full override layer, and the
   changed keys old -> new) and audited. A rollback is a new revision restoring an older
   override layer (revision 0 = no overrides: tenant.toml as is).

Writes flush; the caller commits.
"""
from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select, update

from waterportal.admin.assets import logo_available
from waterportal.admin.models import SettingsRevision
from waterportal.admin.settings.groups import VARIANT_LANGUAGES, Group
from waterportal.audit import services as audit
from waterportal.core.exceptions import SettingsInvalid, WaterportalError
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import effective_record
from waterportal.tenancy.schemas import check_city_owned, deep_merge, validate_settings


class SettingsConflict(WaterportalError):
    """The settings changed since the form was opened (another admin, or ``tenant apply``)."""


def tenant_row(tenant: TenantContext) -> Tenant:
    """The current city's row."""
    row = db.session.get(Tenant, tenant.id)
    assert row is not None
    return row


def base_settings(row: Tenant) -> dict[str, Any]:
    """tenant.toml's settings with platform defaults filled (sections added later included)."""
    try:
        return validate_settings(copy.deepcopy(row.settings or {}))
    except SettingsInvalid:
        return copy.deepcopy(row.settings or {})


def state(row: Tenant) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(base, overrides, effective)`` of a city, read from its row now."""
    base = base_settings(row)
    overrides = copy.deepcopy(row.overrides or {})
    try:
        effective = validate_settings(deep_merge(base, overrides))
    except SettingsInvalid:
        effective = base
    return base, overrides, effective


def _japanese_part(row: Any) -> Any:
    return {k: v for k, v in row.items() if k not in VARIANT_LANGUAGES} if isinstance(row, dict) else row


def diff(old: Any, new: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Changed dotted keys with their old and new values (lists compare whole).

    Translations are diffed key by key, so the history names each text and its language
    (``texts.en.about``, ``contact.windows.0.easy.name``): a translation added or removed as
    a whole, and rows (contact windows) whose Japanese words stayed the same.
    """
    if prefix.rpartition(".")[2] in VARIANT_LANGUAGES and {type(old), type(new)} == {dict, type(None)}:
        old, new = old or {}, new or {}
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(old) | set(new)):
            out += diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and old != new
            and all(isinstance(o, dict) and isinstance(n, dict) and _japanese_part(o) == _japanese_part(n)
                    for o, n in zip(old, new, strict=True))):
        return [change for i, (o, n) in enumerate(zip(old, new, strict=True)) for change in diff(o, n, f"{prefix}.{i}")]
    return [] if old == new else [{"key": prefix, "old": old, "new": new}]


def merge_group(base: dict[str, Any], overrides: dict[str, Any], group: Group,
                sections: dict[str, Any]) -> dict[str, Any]:
    """The new override layer after saving ``sections`` (full section values or None) of ``group``.

    Keys equal to tenant.toml are dropped from the layer, so they follow tenant.toml again.
    """
    result = copy.deepcopy(overrides)
    for section, keys in group.parts:
        new = sections[section]
        base_section = base.get(section)
        if new is None:
            if base_section is None:
                result.pop(section, None)
            else:
                result[section] = None
            continue
        layer = result.get(section)
        layer = dict(layer) if isinstance(layer, dict) else {}
        for key in keys:
            if key not in new:  # a translation never written (texts.en): nothing to store
                layer.pop(key, None)
            elif base_section is not None and key in base_section and base_section[key] == new[key]:
                layer.pop(key, None)
            else:
                layer[key] = new[key]
        if layer:
            result[section] = layer
        else:
            result.pop(section, None)
    return result


def _check_logo(tenant: TenantContext, base: dict[str, Any], overrides: dict[str, Any]) -> None:
    logo = (overrides.get("branding") or {}).get("logo")
    if logo is None or logo == (base.get("branding") or {}).get("logo"):
        return
    if not logo_available(tenant, logo):
        raise SettingsInvalid({"branding.logo": ["ロゴ画像が見つかりません。もう一度アップロードしてください。"]})


def _next_number() -> int:
    return (db.session.scalar(select(func.max(SettingsRevision.number))) or 0) + 1


def apply_overrides(
    tenant: TenantContext, new_overrides: dict[str, Any], actor: str, actor_label: str = "",
    remote_addr: str = "", group: str = "", action: str = "change", restored_from: int | None = None,
    expected_version: int | None = None,
) -> SettingsRevision | None:
    """Validate and store a complete override layer; return the revision, or None if nothing changed.

    Raises SettingsInvalid (with dotted keys) or SettingsConflict.
    """
    row = tenant_row(tenant)
    if expected_version is not None and row.version != expected_version:
        raise SettingsConflict(f"tenant {tenant.slug} is at version {row.version}, not {expected_version}")
    base, overrides, effective = state(row)
    check_city_owned(new_overrides)
    _check_logo(tenant, base, new_overrides)
    new_effective = validate_settings(deep_merge(base, new_overrides))
    changes = diff(effective, new_effective)
    if not changes and new_overrides == overrides:
        return None
    done = db.session.execute(
        update(Tenant).where(Tenant.id == row.id, Tenant.version == row.version)
        .values(overrides=new_overrides, version=row.version + 1,
                effective=effective_record(row.slug, row.settings, new_overrides))
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not done:
        raise SettingsConflict(f"tenant {tenant.slug} changed while saving")
    revision = SettingsRevision(
        number=_next_number(), actor=actor, actor_label=actor_label, action=action, group=group,
        restored_from=restored_from, overrides=new_overrides, changes=changes,
    )
    db.session.add(revision)
    db.session.flush()
    audit.record(
        actor, f"settings.{action}", target=group or "settings", remote_addr=remote_addr,
        revision=revision.number, keys=[c["key"] for c in changes],
        **({"restored_from": restored_from} if restored_from is not None else {}),
    )
    return revision


def save_group(
    tenant: TenantContext, group: Group, sections: dict[str, Any], actor: str, actor_label: str = "",
    remote_addr: str = "", expected_version: int | None = None,
) -> SettingsRevision | None:
    """Save the validated sections of one settings page (see :func:`apply_overrides`)."""
    row = tenant_row(tenant)
    base, overrides, _ = state(row)
    new_overrides = merge_group(base, overrides, group, sections)
    return apply_overrides(tenant, new_overrides, actor, actor_label, remote_addr, group.slug,
                           expected_version=expected_version)


def preview_settings(tenant: TenantContext, group: Group, sections: dict[str, Any]) -> dict[str, Any]:
    """The effective settings the city would have after saving (nothing is written)."""
    row = tenant_row(tenant)
    base, overrides, _ = state(row)
    new_overrides = merge_group(base, overrides, group, sections)
    check_city_owned(new_overrides)
    _check_logo(tenant, base, new_overrides)
    return validate_settings(deep_merge(base, new_overrides))


def revisions() -> list[SettingsRevision]:
    """The current city's revisions, newest first."""
    return list(db.session.scalars(select(SettingsRevision).order_by(SettingsRevision.number.desc())))


def get_revision(number: int) -> SettingsRevision | None:
    """One revision of the current city by its number."""
    return db.session.scalar(select(SettingsRevision).where(
        SettingsRevision.tenant_id == current_tenant().id, SettingsRevision.number == number))


def rollback(tenant: TenantContext, number: int, actor: str, actor_label: str = "",
             remote_addr: str = "") -> SettingsRevision | None:
    """Restore the override layer of revision ``number`` (0: none) as a new revision.

    Raises LookupError for an unknown revision, SettingsInvalid when that state no longer
    validates against the current tenant.toml.
    """
    if number == 0:
        target: dict[str, Any] = {}
    else:
        revision = get_revision(number)
        if revision is None:
            raise LookupError(number)
        target = copy.deepcopy(revision.overrides or {})
    return apply_overrides(tenant, target, actor, actor_label, remote_addr, group="rollback",
                           action="rollback", restored_from=number)
