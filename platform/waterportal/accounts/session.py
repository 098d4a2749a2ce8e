"""Flask-Login wiring: a session is valid only in its own city and session version.

The session stores ``"<tenant_id>:<member_id>:<session_version>"``. The loader loads by
``(tenant_id, member_id)`` under the request's tenant and rejects a stale version, so a
cookie copied to another city, or kept after logout or a password change, is worthless.
"""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.extensions import db, login_manager


def session_token(member: Member) -> str:
    """The identifier Flask-Login keeps in the session for ``member``."""
    return f"{member.tenant_id}:{member.id}:{member.session_version}"


@login_manager.user_loader
def load_member(token: str) -> Member | None:
    """Return the member of this session if it belongs to this city and is still current."""
    tenant = g.get("tenant")
    if tenant is None:
        return None
    try:
        tenant_id, member_id, version = (int(part) for part in token.split(":"))
    except ValueError:
        return None
    if tenant_id != tenant.id:
        return None
    member = db.session.scalar(select(Member).where(Member.tenant_id == tenant_id, Member.id == member_id))
    if member is None or member.session_version != version:
        return None
    return member
