"""Member sessions: the auth core's server-side sessions (core/auth/sessions.py) for citizens.

Flask-Login keeps the token ``"<tenant_id>:<member_id>:<session_version>:<key>"`` as its user
id (``Member.get_id``); the user loader accepts it only for a live session of this city.
What is the members' own: the idle timeout is the city's ``login.idle_timeout_minutes``,
the maximum age is ``PERMANENT_SESSION_LIFETIME``, activity is written at most once a
minute, and a session ends only its own row at logout (other devices stay logged in).

:func:`refresh_session` runs before every city request: it loads the member, records
activity and commits, so the idle clock is kept in one place and no view commits it by accident.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, flash, g, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from waterportal.accounts.models import Member, MemberSession
from waterportal.core.auth import sessions
from waterportal.core.auth.sessions import END_MESSAGES
from waterportal.extensions import db, login_manager
from waterportal.tenancy.context import TenantContext, current_tenant, current_tenant_or_none

log = logging.getLogger("waterportal.accounts")

login_manager.login_view = "accounts.login"
# Lazy, read in the request's language when Flask-Login flashes it (localize_callback).
login_manager.login_message = _l("このページをご利用になるには、ログインしてください。")
login_manager.localize_callback = str
login_manager.login_message_category = "info"

# Flask-Login's keys in the cookie session.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")

MEMBER = sessions.SessionKind(
    session_model=MemberSession,
    account_model=Member,
    account_column="member_id",
    idle=lambda tenant: dt.timedelta(minutes=tenant.settings["login"]["idle_timeout_minutes"]),
    max_age=lambda: dt.timedelta(seconds=current_app.config.get("PERMANENT_SESSION_LIFETIME", 86400)),
    # The idle timeout is in minutes, so a touch a minute is exact enough.
    touch_interval=dt.timedelta(seconds=60),
    per_city=True,
)


def start_session(member: Member, remote_addr: str = "", user_agent: str = "") -> str:
    """Create a live session row for ``member`` (flushed) and return its secret key."""
    key = sessions.start(MEMBER, member, remote_addr=remote_addr, user_agent=user_agent[:200])
    member.live_session_key = key
    return key


def end_session(key: str | None, reason: str = "logout") -> None:
    """End the session with ``key`` (no-op when unknown or already ended)."""
    sessions.end(MEMBER, key, reason)


def end_member_sessions(member: Member, reason: str, keep_key: str | None = None) -> int:
    """End every live session of ``member`` except ``keep_key``'s; return how many ended."""
    return sessions.end_all(MEMBER, member, reason, keep_key=keep_key)


def current_session_key() -> str | None:
    """The session key of the logged-in member of this request, if any."""
    if current_user.is_authenticated:
        return getattr(current_user, "live_session_key", None)
    return None


@login_manager.user_loader
def load_member(token: str) -> Member | None:
    """Return the member of a live session of this city, else ``None``."""
    tenant: TenantContext | None = current_tenant_or_none()
    if tenant is None:
        return None
    loaded = sessions.load(MEMBER, token, tenant)
    if loaded.ended:
        g.session_end_reason = loaded.ended
    if loaded.account is None:
        return None
    loaded.account.live_session_key = loaded.key
    g.member_session = loaded.row
    return loaded.account


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
    """Before each city request (the pipeline decides which: pages of a city, not its static
    files): validate the member's session, record activity, commit it.

    A dead session (ended, idle, other city) has its login keys removed from the cookie;
    an idle one also tells the citizen why.
    """
    if "_user_id" not in session:
        return
    if not current_user.is_authenticated:
        drop_login_keys()
        reason = g.get("session_end_reason")
        if reason in END_MESSAGES:
            flash(str(END_MESSAGES[reason]), "info")
            log.info("session ended: %s (tenant=%s)", reason, current_tenant().slug)
    if db.session.dirty:
        db.session.commit()
