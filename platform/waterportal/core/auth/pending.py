"""Between the password and the second factor (city staff, vendor staff).

After the password step the cookie session names the account, its session version and
when the password was accepted, under the kind's ``pending_key``; for at most
:data:`PENDING_SECONDS` it lets the account reach the second-factor step and grants
nothing else. A login (``sessions.start_in_cookie``) drops it.
"""
from __future__ import annotations

from typing import Any

from flask import session

from waterportal.core.auth.sessions import SessionKind, find_account, make_token, parse_token
from waterportal.core.time import utcnow_naive

PENDING_SECONDS = 600


def set_pending(kind: SessionKind, account: Any) -> None:
    """Remember who passed the password step, for the second-factor step only."""
    issued = str(int(utcnow_naive().timestamp()))
    session[kind.pending_key] = make_token(account, issued, per_city=kind.per_city)


def pending_account(kind: SessionKind, tenant: Any) -> Any | None:
    """The account between password and second factor (at most PENDING_SECONDS), else None."""
    parsed = parse_token(session.get(kind.pending_key, ""), per_city=kind.per_city)
    if parsed is None:
        return None
    tenant_id, account_id, version, issued = parsed
    if kind.per_city and (tenant is None or tenant_id != tenant.id):
        return None
    if not issued.isdigit() or utcnow_naive().timestamp() - int(issued) > PENDING_SECONDS:
        session.pop(kind.pending_key, None)
        return None
    return find_account(kind, account_id, version, tenant)


def drop_pending(kind: SessionKind) -> None:
    """Forget the marker (too many wrong codes: start again from the password)."""
    session.pop(kind.pending_key, None)
