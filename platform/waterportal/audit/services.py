"""The audit log: who did what, when and from where, per city."""
from __future__ import annotations

from typing import Any

from waterportal.core.models import AuditEntry
from waterportal.extensions import db


def record(actor: str, action: str, target: str = "", remote_addr: str = "", **detail: Any) -> AuditEntry:
    """Add an audit entry to the session under the current tenant (the caller commits)."""
    entry = AuditEntry(actor=actor, action=action, target=target, remote_addr=remote_addr, detail=detail)
    db.session.add(entry)
    return entry
