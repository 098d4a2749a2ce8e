"""Server-side staff sessions, kept apart from citizens' Flask-Login sessions.

The cookie session holds ``session["staff"] = "<tenant_id>:<staff_id>:<session_version>:<key>"``;
the database keeps only a SHA-256 of the random key (:class:`StaffSession`). A staff
session is accepted only when

* the tenant id is the request's city (a cookie replayed on another city is worthless),
* the staff member exists in this city, is not disabled, and its ``session_version``
  matches (bumped at password change, disable and TOTP reset),
* the row is live: not ended, not idle longer than the city's ``admin.session_idle_minutes``
  and younger than ``MAX_AGE``.

Between the password and the second factor, ``session["staff_pending"]`` names the staff
member for at most ``PENDING_SECONDS``; it grants nothing else.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable

from flask import abort, flash, g, redirect, request, session, url_for
from sqlalchemy import select, update

from waterportal.admin.models import StaffMember, StaffSession
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

SESSION_KEY = "staff"
PENDING_KEY = "staff_pending"
MAX_AGE = dt.timedelta(hours=12)
PENDING_SECONDS = 600
TOUCH_INTERVAL = dt.timedelta(seconds=30)
# Pages a staff member with a one-time password may open before choosing their own.
FIRST_LOGIN_ENDPOINTS = {"admin.change_password", "admin.logout"}
END_MESSAGES = {
    "idle": "一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。",
    "max_age": "ログインの有効期限が切れました。もう一度ログインしてください。",
}


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_staff_session(tenant: TenantContext, staff: StaffMember, remote_addr: str) -> str:
    """Create a live session row (flushed); store and return the cookie token."""
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    db.session.add(StaffSession(
        tenant_id=tenant.id, staff_id=staff.id, key_hash=_hash_key(key), created_at=now,
        last_seen_at=now, remote_addr=remote_addr[:64],
    ))
    db.session.flush()
    token = f"{tenant.id}:{staff.id}:{staff.session_version}:{key}"
    session.pop(PENDING_KEY, None)
    session[SESSION_KEY] = token
    return token


def end_staff_session(reason: str = "logout") -> None:
    """End this request's staff session (row and cookie key)."""
    token = session.pop(SESSION_KEY, None)
    key = token.rsplit(":", 1)[-1] if token else ""
    if key:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.key_hash == _hash_key(key), StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow_naive(), end_reason=reason)
        )


def end_all_staff_sessions(staff: StaffMember, reason: str) -> int:
    """End every live session of ``staff``; return how many ended."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow_naive(), end_reason=reason)
    )
    return result.rowcount or 0


def _parse(token: str) -> tuple[int, int, int, str] | None:
    try:
        tenant_part, staff_part, version_part, key = str(token).split(":", 3)
        return int(tenant_part), int(staff_part), int(version_part), key
    except ValueError:
        return None


def _live_staff(tenant: TenantContext, token: str) -> tuple[StaffMember | None, str | None]:
    parsed = _parse(token)
    if parsed is None or parsed[0] != tenant.id or not parsed[3]:
        return None, None
    _, staff_id, version, key = parsed
    row = db.session.scalar(select(StaffSession).where(
        StaffSession.key_hash == _hash_key(key), StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None)
    ))
    if row is None:
        return None, None
    now = utcnow_naive()
    idle = dt.timedelta(minutes=tenant.settings["admin"]["session_idle_minutes"])
    reason = "idle" if now - row.last_seen_at >= idle else "max_age" if now - row.created_at >= MAX_AGE else None
    if reason:
        row.ended_at, row.end_reason = now, reason
        return None, reason
    staff = db.session.scalar(select(StaffMember).where(StaffMember.id == staff_id))
    if staff is None or staff.disabled or staff.session_version != version:
        return None, None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return staff, None


def load_staff() -> None:
    """Before every console request: set ``g.staff`` from a live session of this city, or None."""
    g.staff = None
    tenant: TenantContext | None = g.get("tenant")
    token = session.get(SESSION_KEY)
    if tenant is None or not token:
        return
    staff, reason = _live_staff(tenant, token)
    if staff is None:
        session.pop(SESSION_KEY, None)
        if reason in END_MESSAGES:
            flash(END_MESSAGES[reason], "info")
    g.staff = staff
    if db.session.dirty:
        db.session.commit()


def set_pending(staff: StaffMember) -> None:
    """Remember who passed the password step, for the second-factor step only."""
    session[PENDING_KEY] = f"{staff.tenant_id}:{staff.id}:{staff.session_version}:{int(utcnow_naive().timestamp())}"


def pending_staff(tenant: TenantContext) -> StaffMember | None:
    """The staff member between password and second factor (at most PENDING_SECONDS), else None."""
    parsed = _parse(session.get(PENDING_KEY, ""))
    if parsed is None or parsed[0] != tenant.id:
        return None
    _, staff_id, version, issued = parsed
    if not issued.isdigit() or utcnow_naive().timestamp() - int(issued) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    staff = db.session.scalar(select(StaffMember).where(StaffMember.id == staff_id))
    if staff is None or staff.disabled or staff.session_version != version:
        return None
    return staff


def staff_required(role: str | None = None) -> Callable:
    """Decorator: a logged-in staff member of this city (with ``role`` when given), else
    a redirect to the login page (403 for the wrong role)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff: StaffMember | None = g.get("staff")
            if staff is None:
                target = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("admin.login", next=target))
            if staff.must_change_password and request.endpoint not in FIRST_LOGIN_ENDPOINTS:
                return redirect(url_for("admin.change_password"))
            if role is not None and staff.role != role:
                abort(403)
            return view(*args, **kwargs)

        wrapper.staff_role = role  # type: ignore[attr-defined] - read by tests walking the routes
        return wrapper

    return decorate
