"""Re-sealing the second factor's secrets under the newest key (``flask keys rotate``).

The work is :func:`waterportal.core.auth.secret_box.reseal_all`; this adds the audit: one
``keys.rotate`` entry in each city whose staff secrets were re-sealed, with the count only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from waterportal.audit import services as audit
from waterportal.core.auth import secret_box
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import context_for

log = logging.getLogger("waterportal.keys")


@dataclass
class RotateResult:
    """How many secrets were re-sealed: per table, and per city for the staff."""

    per_table: dict[str, int]
    per_city: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.per_table.values())


def rotate_totp_keys(actor: str = "vendor:cli") -> RotateResult:
    """Re-seal every stored TOTP secret under the newest key and audit it per city (flushed;
    the caller commits once, so it is all or nothing). Raises secret_box.SealError, having
    written nothing, when a stored secret opens with no configured key."""
    counts = secret_box.reseal_all()
    per_table: dict[str, int] = {}
    by_tenant: dict[int, int] = {}
    for (table, tenant_id), count in counts.items():
        per_table[table] = per_table.get(table, 0) + count
        if tenant_id is not None:
            by_tenant[tenant_id] = by_tenant.get(tenant_id, 0) + count
    per_city: dict[str, int] = {}
    if by_tenant:
        for tenant in db.session.scalars(select(Tenant).where(Tenant.id.in_(by_tenant)).order_by(Tenant.slug)):
            per_city[tenant.slug] = by_tenant[tenant.id]
            with tenant_context(context_for(tenant)):
                audit.record(actor, "keys.rotate", target="totp_secret", secrets=by_tenant[tenant.id])
                db.session.flush()
    log.info("TOTP secrets re-sealed under the newest key: %s", per_table or "none")
    return RotateResult(per_table=per_table, per_city=per_city)
