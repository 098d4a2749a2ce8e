"""Server-side member sessions on top of Flask's signed cookie session.

Flask's cookie session has no server-side identity, so logging out could not stop a
copied cookie. Each login therefore creates a :class:`MemberSession` row with a random
key; the cookie carries ``"<tenant_id>:<member_id>:<session_version>:<key>"`` (Flask-Login's
user id) and the database keeps only a SHA-256 of the key. The user loader accepts a
session only when

* the tenant id is the request's city (a cookie replayed on another city is worthless),
* the member exists in this city and its ``session_version`` matches (bumping it ends
  every session of the member at once),
* the row is live: not ended (logout, password change), not idle for longer than the
  city's ``login.idle_timeout_minutes``, and younger than ``PERMANENT_SESSION_LIFETIME``.

:func:`refresh_session` runs before every city request: it loads the member, records
activity (at most once a minute, to keep writes low) and commits, so the idle clock is
kept in one place and no view commits it by accident.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from flask import current_app, flash, g, request, session
from flask_login import current_user
from sqlalchemy import select, update

from waterportal.accounts.models import Member, MemberSession
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db, login_manager
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.accounts")

login_manager.login_view = "accounts.login"
login_manager.login_message = "このページをご利用になるには、ログインしてください。"
login_manager.login_message_category = "info"

# Activity is written at most this often; the idle timeout is in minutes, so this is exact enough.
TOUCH_INTERVAL = dt.timedelta(seconds=60)
# Flask-Login's keys in the cookie session.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
END_MESSAGES = {
    "idle": "一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。",
    "max_age": "ログインの有効期限が切れました。もう一度ログインしてください。",
}


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(tenant: TenantContext, member: Member, remote_addr: str = "", user_agent: str = "") -> str:
    """Create a live session row for ``member`` (flushed) and return its secret key."""
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    db.session.add(
        MemberSession(
            tenant_id=tenant.id, member_id=member.id, key_hash=_hash_key(key), created_at=now,
            last_seen_at=now, remote_addr=remote_addr[:64], user_agent=user_agent[:200],
        )
    )
    db.session.flush()
    member.live_session_key = key
    return key


def end_session(key: str | None, reason: str = "logout") -> None:
    """End the session with ``key`` (no-op when unknown or already ended)."""
    if not key:
        return
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.key_hash == _hash_key(key), MemberSession.ended_at.is_(None))
        .values(ended_at=utcnow_naive(), end_reason=reason)
    )


def end_member_sessions(member: Member, reason: str, keep_key: str | None = None) -> int:
    """End every live session of ``member`` except ``keep_key``'s; return how many ended."""
    stmt = update(MemberSession).where(MemberSession.member_id == member.id, MemberSession.ended_at.is_(None))
    if keep_key:
        stmt = stmt.where(MemberSession.key_hash != _hash_key(keep_key))
    result = db.session.execute(stmt.values(ended_at=utcnow_naive(), end_reason=reason))
    return result.rowcount or 0


def current_session_key() -> str | None:
    """The session key of the logged-in member of this request, if any."""
    if current_user.is_authenticated:
        return getattr(current_user, "live_session_key", None)
    return None


def _expired(row: MemberSession, tenant: TenantContext, now: dt.datetime) -> str | None:
    idle = dt.timedelta(minutes=tenant.settings["login"]["idle_timeout_minutes"])
    if now - row.last_seen_at >= idle:
        return "idle"
    max_age = dt.timedelta(seconds=current_app.config.get("PERMANENT_SESSION_LIFETIME", 86400))
    if now - row.created_at >= max_age:
        return "max_age"
    return None


@login_manager.user_loader
def load_member(token: str) -> Member | None:
    """Return the member of a live session of this city, else ``None``."""
    tenant: TenantContext | None = g.get("tenant")
    if tenant is None:
        return None
    try:
        tenant_part, member_part, version_part, key = token.split(":", 3)
        tenant_id, member_id, version = int(tenant_part), int(member_part), int(version_part)
    except ValueError:
        return None
    if tenant_id != tenant.id or not key:
        return None
    row = db.session.scalar(
        select(MemberSession).where(
            MemberSession.key_hash == _hash_key(key),
            MemberSession.member_id == member_id,
            MemberSession.ended_at.is_(None),
        )
    )
    if row is None:
        return None
    now = utcnow_naive()
    reason = _expired(row, tenant, now)
    if reason:
        row.ended_at, row.end_reason = now, reason
        g.session_end_reason = reason
        return None
    member = db.session.scalar(select(Member).where(Member.id == member_id))
    if member is None or member.session_version != version:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    member.live_session_key = key
    g.member_session = row
    return member


# Keys of other consoles sharing this browser's cookie on the same host (the staff
# console's server-side session, admin/sessions.py): a citizen's login or logout must not
# end them.
FOREIGN_KEYS = ("staff", "staff_pending")


def clear_citizen_session() -> None:
    """Forget everything of the citizen side of the cookie session (login keys, drafts,
    the CSRF token), keeping only :data:`FOREIGN_KEYS`.

    Flask's session is the signed cookie itself, so clearing it and writing it anew is the
    rotation: nothing set before a login or logout survives it except the staff session.
    """
    kept = {name: session[name] for name in FOREIGN_KEYS if name in session}
    session.clear()
    session.update(kept)


def drop_login_keys() -> None:
    """Forget Flask-Login's keys in the cookie session (the session row is not touched)."""
    for name in LOGIN_KEYS:
        session.pop(name, None)


def refresh_session() -> None:
    """Before each city request: validate the member's session, record activity, commit it.

    A dead session (ended, idle, other city) has its login keys removed from the cookie;
    an idle one also tells the citizen why.
    """
    if g.get("tenant") is None or request.blueprint in ("theme_assets", "health"):
        return
    if "_user_id" not in session:
        return
    if not current_user.is_authenticated:
        drop_login_keys()
        reason = g.get("session_end_reason")
        if reason in END_MESSAGES:
            flash(END_MESSAGES[reason], "info")
            log.info("session ended: %s (tenant=%s)", reason, g.tenant.slug)
    if db.session.dirty:
        db.session.commit()
