"""Writing the audit log. Callers import it as ``audit`` and call ``audit.record(...)``."""
from __future__ import annotations

from typing import Any

from waterportal.audit.models import AuditEntry
from waterportal.extensions import db


def record(actor: str, action: str, target: str = "", remote_addr: str = "", **detail: Any) -> AuditEntry:
    """Add an audit entry to the session under the current tenant (the caller commits)."""
    entry = AuditEntry(actor=actor, action=action, target=target, remote_addr=remote_addr, detail=detail)
    db.session.add(entry)
    return entry
