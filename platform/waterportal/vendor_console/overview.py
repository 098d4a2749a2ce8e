"""The vendor console's figures per city: one query per figure, never one per city.

These are vendor reads across every city, so they opt out of the tenant criteria with
``execution_options(all_tenants=True)`` and group by ``tenant_id`` themselves.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.models import Tenant

ALL = {"all_tenants": True}


@dataclass
class CityFigures:
    """One row of the vendor console's list of cities."""

    id: int
    slug: str
    name: str
    enabled: bool
    version: int
    login_mode: str
    timezone: str
    hosts: list[str]
    members: int = 0
    contracts: int = 0
    last_import: ImportBatch | None = None
    mail_pending: int = 0
    mail_retrying: int = 0
    mail_failed: int = 0


def _counts(model) -> dict[int, int]:
    rows = db.session.execute(
        select(model.tenant_id, func.count(model.id)).group_by(model.tenant_id).execution_options(**ALL)
    )
    return {tenant_id: count for tenant_id, count in rows}


def _last_imports() -> dict[int, ImportBatch]:
    latest = select(func.max(ImportBatch.id)).group_by(ImportBatch.tenant_id).scalar_subquery()
    batches = db.session.scalars(select(ImportBatch).where(ImportBatch.id.in_(latest)).execution_options(**ALL))
    return {batch.tenant_id: batch for batch in batches}


def _mail() -> dict[int, tuple[int, int, int]]:
    # Not delivered yet: waiting, or in a sender's hands right now.
    pending = OutboxMessage.status.in_(("pending", "sending"))
    rows = db.session.execute(
        select(
            OutboxMessage.tenant_id,
            func.sum(case((pending, 1), else_=0)),
            func.sum(case((pending & (OutboxMessage.attempts > 0), 1), else_=0)),
            func.sum(case((OutboxMessage.status == "failed", 1), else_=0)),
        )
        .where(OutboxMessage.status.in_(("pending", "sending", "failed")))
        .group_by(OutboxMessage.tenant_id)
        .execution_options(**ALL)
    )
    return {tenant_id: (int(p or 0), int(r or 0), int(f or 0)) for tenant_id, p, r, f in rows}


def city_figures() -> list[CityFigures]:
    """Every city with status, hosts, member and contract counts, its last import and mail
    backlog: six queries whatever the number of cities."""
    tenants = db.session.scalars(select(Tenant).options(selectinload(Tenant.hosts)).order_by(Tenant.slug)).all()
    members, contracts, imports, mail = _counts(Member), _counts(Contract), _last_imports(), _mail()
    result = []
    for tenant in tenants:
        hosts = sorted(tenant.hosts, key=lambda h: (not h.is_primary, h.id))
        pending, retrying, failed = mail.get(tenant.id, (0, 0, 0))
        result.append(CityFigures(
            id=tenant.id, slug=tenant.slug, name=tenant.name, enabled=tenant.enabled, version=tenant.version,
            login_mode=(tenant.settings or {}).get("login", {}).get("mode", ""),
            timezone=(tenant.settings or {}).get("timezone", "Asia/Tokyo"), hosts=[h.host for h in hosts],
            members=members.get(tenant.id, 0), contracts=contracts.get(tenant.id, 0),
            last_import=imports.get(tenant.id), mail_pending=pending, mail_retrying=retrying, mail_failed=failed,
        ))
    return result


def oldest_pending_age(now: dt.datetime) -> dt.timedelta | None:
    """How long the oldest pending mail of any city has waited (a stuck worker shows here)."""
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(("pending", "sending")))
        .execution_options(**ALL)
    )
    return now - oldest if oldest is not None else None
