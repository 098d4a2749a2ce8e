"""Vendor staff accounts, login checks (throttled, optional TOTP) and server-side sessions.

Like the city staff console (admin/sessions.py), the cookie session holds
``session["vendor"] = "<vendor_id>:<session_version>:<key>"`` and the database only the
key's SHA-256, so logout, disabling and a password change end a session for good. The
cookie is host-only on the vendor host: no city host ever receives it. Throttles are
platform-wide (no city): 5 failures per email and 20 per address in 15 minutes.
Writes flush; the caller commits.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, redirect, request, session, url_for
from sqlalchemy import select, update

from waterportal.accounts.passwords import hash_password, needs_rehash, verify_password
from waterportal.accounts.policy import password_problems
from waterportal.admin.staff.services import STAFF_PASSWORD_POLICY, matching_step
from waterportal.core import throttle
from waterportal.core.text import normalise_email
from waterportal.core.throttle import Rule
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.vendor_console.models import VendorSession, VendorStaff

log = logging.getLogger("waterportal.vendor")

SESSION_KEY = "vendor"
PENDING_KEY = "vendor_pending"
IDLE = dt.timedelta(minutes=30)
MAX_AGE = dt.timedelta(hours=12)
PENDING_SECONDS = 600
TOUCH_INTERVAL = dt.timedelta(seconds=30)
LOGIN_ACCOUNT = Rule("vendor-login-account", "5 per 15 minutes")
LOGIN_IP = Rule("vendor-login-ip", "20 per 15 minutes")
TOTP_TRIES = Rule("vendor-totp", "5 per 15 minutes")


class VendorError(ValueError):
    """A vendor account change was refused (``message`` says why)."""


@dataclass
class VendorLogin:
    """The outcome of :func:`authenticate` / :func:`verify_totp`."""

    vendor: VendorStaff | None = None
    throttled: bool = False
    retry_after: int = 0


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find_vendor(email: str) -> VendorStaff | None:
    """The vendor staff member with this email, if any."""
    email = normalise_email(email)
    if "\x00" in email:  # no stored address has one, and PostgreSQL refuses NUL in a query
        return None
    return db.session.scalar(select(VendorStaff).where(VendorStaff.email == email))


def create_vendor_staff(email: str, password: str, name: str = "") -> VendorStaff:
    """Create a vendor staff member with the platform's strongest password policy. Raises VendorError."""
    email = normalise_email(email)
    if "@" not in email:
        raise VendorError("メールアドレスの形式が正しくありません。")
    if find_vendor(email) is not None:
        raise VendorError("このメールアドレスのベンダー職員はすでに登録されています。")
    problems = password_problems(STAFF_PASSWORD_POLICY, password, (email, email.split("@")[0], name))
    if problems:
        raise VendorError(" ".join(problems))
    vendor = VendorStaff(email=email, name=name.strip(), password_hash=hash_password(password))
    db.session.add(vendor)
    db.session.flush()
    log.info("vendor staff created: vendor:%s", vendor.id)
    return vendor


def enable_totp(vendor: VendorStaff, secret: str, code: str) -> None:
    """Turn the second factor on once ``code`` proves the app holds ``secret``. Raises VendorError."""
    step = matching_step(secret, code)
    if step is None:
        raise VendorError("確認コードが正しくありません。")
    vendor.totp_secret, vendor.totp_last_step = secret, step


def disable_vendor_staff(vendor: VendorStaff) -> int:
    """Disable a vendor staff member: their vendor sessions and their sessions in every
    city's console end at once. Returns the number of city sessions ended."""
    from waterportal.admin.models import StaffMember, StaffSession

    vendor.disabled = True
    vendor.session_version += 1
    now = utcnow_naive()
    db.session.execute(update(VendorSession).where(VendorSession.vendor_id == vendor.id, VendorSession.ended_at.is_(None))
                       .values(ended_at=now, end_reason="disabled"))
    # A vendor job across cities: the city accounts of this vendor, in every city.
    shadows = select(StaffMember.id).where(StaffMember.vendor_id == vendor.id)
    result = db.session.execute(
        update(StaffSession).where(StaffSession.staff_id.in_(shadows), StaffSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="disabled")
        .execution_options(all_tenants=True, synchronize_session=False)
    )
    log.info("vendor staff disabled: vendor:%s", vendor.id)
    return result.rowcount or 0


def authenticate(email: str, password: str, remote_addr: str) -> VendorLogin:
    """Check email and password under the throttles; an unknown email costs the same work."""
    email = normalise_email(email)
    keys = ((LOGIN_ACCOUNT, email or "-"), (LOGIN_IP, remote_addr or "-"))
    waits = [throttle.retry_after(None, r, k) for r, k in keys if not throttle.allowed(None, r, k)]
    if waits:
        log.warning("vendor login throttled")
        return VendorLogin(throttled=True, retry_after=max(waits))
    vendor = find_vendor(email)
    ok = verify_password(vendor.password_hash if vendor else None, password)
    if not ok or vendor is None or vendor.disabled:
        for rule, key in keys:
            throttle.hit(None, rule, key)
        log.warning("vendor login failed (%s)", "disabled" if ok and vendor else "password")
        return VendorLogin()
    if needs_rehash(vendor.password_hash):
        vendor.password_hash = hash_password(password)
    throttle.clear(None, LOGIN_ACCOUNT, email)
    return VendorLogin(vendor=vendor)


def verify_totp(vendor: VendorStaff, code: str) -> VendorLogin:
    """Check the second-factor code (each code works once), throttled per vendor staff member."""
    key = str(vendor.id)
    if not throttle.allowed(None, TOTP_TRIES, key):
        return VendorLogin(throttled=True, retry_after=throttle.retry_after(None, TOTP_TRIES, key))
    step = matching_step(vendor.totp_secret or "", code, vendor.totp_last_step) if vendor.totp_secret else None
    if step is None:
        throttle.hit(None, TOTP_TRIES, key)
        return VendorLogin()
    vendor.totp_last_step = step
    throttle.clear(None, TOTP_TRIES, key)
    return VendorLogin(vendor=vendor)


# --- sessions ---------------------------------------------------------------------------

def start_session(vendor: VendorStaff, remote_addr: str) -> None:
    """A fresh live session (flushed) in the cookie; stamps the login."""
    end_session("relogin")
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    db.session.add(VendorSession(vendor_id=vendor.id, key_hash=_hash_key(key), created_at=now,
                                 last_seen_at=now, remote_addr=remote_addr[:64]))
    vendor.last_login_at = now
    db.session.flush()
    session.pop(PENDING_KEY, None)
    session[SESSION_KEY] = f"{vendor.id}:{vendor.session_version}:{key}"
    log.info("vendor login: vendor:%s from %s", vendor.id, remote_addr)


def end_session(reason: str = "logout") -> None:
    """End this browser's vendor session (row and cookie key)."""
    token = session.pop(SESSION_KEY, None)
    key = str(token).rsplit(":", 1)[-1] if token else ""
    if key:
        db.session.execute(update(VendorSession).where(
            VendorSession.key_hash == _hash_key(key), VendorSession.ended_at.is_(None),
        ).values(ended_at=utcnow_naive(), end_reason=reason))


def _parse(token: str) -> tuple[int, int, str] | None:
    try:
        vendor_part, version_part, key = str(token).split(":", 2)
        return int(vendor_part), int(version_part), key
    except ValueError:
        return None


def load_vendor() -> None:
    """Before every vendor console request: ``g.vendor_staff`` from a live session, or None."""
    g.vendor_staff = None
    parsed = _parse(session.get(SESSION_KEY, ""))
    if parsed is None:
        return
    vendor_id, version, key = parsed
    row = db.session.scalar(select(VendorSession).where(
        VendorSession.key_hash == _hash_key(key), VendorSession.vendor_id == vendor_id,
        VendorSession.ended_at.is_(None),
    ))
    vendor = db.session.get(VendorStaff, vendor_id) if row is not None else None
    now = utcnow_naive()
    if row is not None and (now - row.last_seen_at >= IDLE or now - row.created_at >= MAX_AGE):
        row.ended_at, row.end_reason = now, "idle"
        vendor = None
    if vendor is None or vendor.disabled or vendor.session_version != version:
        session.pop(SESSION_KEY, None)
    else:
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            row.last_seen_at = now
        g.vendor_staff = vendor
    if db.session.dirty:
        db.session.commit()


def set_pending(vendor: VendorStaff) -> None:
    """Remember who passed the password step, for the second-factor step only."""
    session[PENDING_KEY] = f"{vendor.id}:{vendor.session_version}:{int(utcnow_naive().timestamp())}"


def pending_vendor() -> VendorStaff | None:
    """The vendor staff member between password and code (at most PENDING_SECONDS)."""
    parsed = _parse(session.get(PENDING_KEY, ""))
    if parsed is None or not parsed[2].isdigit():
        return None
    vendor_id, version, issued = parsed
    if utcnow_naive().timestamp() - int(issued) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    vendor = db.session.get(VendorStaff, vendor_id)
    if vendor is None or vendor.disabled or vendor.session_version != version:
        return None
    return vendor


def vendor_required(view: Callable) -> Callable:
    """Decorator: a logged-in vendor staff member, else a redirect to the vendor login."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("vendor_staff") is None:
            return redirect(url_for("vendor.login"))
        return view(*args, **kwargs)

    wrapper.vendor_required = True  # type: ignore[attr-defined] - read by tests walking the routes
    return wrapper


def remote_addr() -> str:
    """The client address (after ProxyFix, when configured)."""
    return request.remote_addr or ""
