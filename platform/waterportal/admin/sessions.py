"""City staff sessions: the auth core's server-side sessions (core/auth/sessions.py) for the console.

The cookie session holds ``session["staff"] = "<tenant_id>:<staff_id>:<session_version>:<key>"``,
kept apart from citizens' Flask-Login keys. What is the staff's own: the idle timeout is
the city's ``admin.session_idle_minutes``, the maximum age 12 hours, a disabled staff member
has no session, and ``session_version`` is bumped at password change, disable and TOTP reset.

Between the password and the second factor, ``session["staff_pending"]`` names the staff
member (core/auth/pending.py); it grants nothing else.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from flask import abort, flash, g, redirect, request, url_for

from waterportal.admin.models import StaffMember, StaffSession
from waterportal.core.auth import pending, sessions
from waterportal.core.auth.sessions import END_MESSAGES
from waterportal.tenancy.context import TenantContext, current_tenant_or_none

# Pages a staff member with a one-time password may open before choosing their own.
FIRST_LOGIN_ENDPOINTS = {"admin.change_password", "admin.logout"}

STAFF = sessions.SessionKind(
    session_model=StaffSession,
    account_model=StaffMember,
    account_column="staff_id",
    idle=lambda tenant: dt.timedelta(minutes=tenant.settings["admin"]["session_idle_minutes"]),
    max_age=lambda: dt.timedelta(hours=12),
    touch_interval=dt.timedelta(seconds=30),
    per_city=True,
    cookie_key="staff",
    pending_key="staff_pending",
)


def start_staff_session(staff: StaffMember, remote_addr: str) -> str:
    """A fresh live session (flushed) in the cookie, ending this browser's older one; returns the token."""
    return sessions.start_in_cookie(STAFF, staff, remote_addr)


def end_staff_session(reason: str = "logout") -> None:
    """End this request's staff session (row and cookie key)."""
    sessions.end_in_cookie(STAFF, reason)


def end_all_staff_sessions(staff: StaffMember, reason: str) -> int:
    """End every live session of ``staff``; return how many ended."""
    return sessions.end_all(STAFF, staff, reason)


def load_staff() -> None:
    """Before every console request: set ``g.staff`` from a live session of this city, or None."""
    g.staff = None
    tenant: TenantContext | None = current_tenant_or_none()
    if tenant is None:
        return
    loaded = sessions.load_from_cookie(STAFF, tenant)
    if loaded.ended in END_MESSAGES:
        flash(str(END_MESSAGES[loaded.ended]), "info")
    g.staff = loaded.account


def set_pending(staff: StaffMember) -> None:
    """Remember who passed the password step, for the second-factor step only."""
    pending.set_pending(STAFF, staff)


def pending_staff(tenant: TenantContext) -> StaffMember | None:
    """The staff member between password and second factor (at most PENDING_SECONDS), else None."""
    return pending.pending_account(STAFF, tenant)


def drop_pending() -> None:
    """Forget who passed the password step (too many wrong codes)."""
    pending.drop_pending(STAFF)


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
