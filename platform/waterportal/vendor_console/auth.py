"""Vendor staff accounts, their login (throttled, optional TOTP) and their sessions.

The auth core (core/auth/) does the work, as for city staff: the cookie session holds
``session["vendor"] = "<vendor_id>:<session_version>:<key>"`` and the database only the
key's SHA-256, so logout, disabling and a password change end a session for good. What is
the vendors' own: they belong to no city (the token carries no tenant id, the throttles
are platform-wide), the idle timeout is a fixed 30 minutes, the maximum age 12 hours, and
the cookie is host-only on the vendor host: no city host ever receives it.
Writes flush; the caller commits.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable

from flask import g, redirect, url_for
from sqlalchemy import select, update

from waterportal.admin.models import StaffMember, StaffSession
from waterportal.admin.staff.services import STAFF_PASSWORD_POLICY
from waterportal.core.auth import devices, pending, second_factor, sessions, throttling
from waterportal.core.auth.login import LoginAttempt, check_password
from waterportal.core.auth.passwords import hash_password, password_problems
from waterportal.core.text import normalise_email
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.vendor_console.models import VendorSession, VendorStaff

log = logging.getLogger("waterportal.vendor")

VENDOR = sessions.SessionKind(
    session_model=VendorSession,
    account_model=VendorStaff,
    account_column="vendor_id",
    idle=lambda _tenant: dt.timedelta(minutes=30),
    max_age=lambda: dt.timedelta(hours=12),
    touch_interval=dt.timedelta(seconds=30),
    per_city=False,
    cookie_key="vendor",
    pending_key="vendor_pending",
)


class VendorError(ValueError):
    """A vendor account change was refused (``message`` says why)."""


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
    problems = password_problems(password, STAFF_PASSWORD_POLICY, email=email, name=name)
    if problems:
        raise VendorError(" ".join(problems))
    vendor = VendorStaff(email=email, name=name.strip(), password_hash=hash_password(password))
    db.session.add(vendor)
    db.session.flush()
    log.info("vendor staff created: vendor:%s", vendor.id)
    return vendor


def enable_totp(vendor: VendorStaff, secret: str, code: str) -> None:
    """Turn the second factor on once ``code`` proves the app holds ``secret``. Raises VendorError."""
    step = second_factor.matching_step(secret, code)
    if step is None:
        raise VendorError("確認コードが正しくありません。")
    second_factor.set_secret(vendor, secret, step)
    # Sessions that began without the code end: a live session of an account with TOTP has
    # then always passed it (second_factor_passed relies on this).
    vendor.session_version += 1


def second_factor_passed(vendor: VendorStaff) -> bool:
    """Whether this vendor's live session passed a second factor: an account with TOTP
    cannot log in without the code, and turning TOTP on ends the sessions that began
    without it (:func:`enable_totp`)."""
    return vendor.totp_secret is not None


def city_requires_second_factor(tenant: TenantContext) -> bool:
    """The city requires a second factor of everyone who opens its console."""
    return bool(tenant.settings["admin"]["require_totp"])


def disable_vendor_staff(vendor: VendorStaff) -> int:
    """Disable a vendor staff member: their vendor sessions and their sessions in every
    city's console end at once. Returns the number of city sessions ended."""
    vendor.disabled = True
    vendor.session_version += 1
    sessions.end_all(VENDOR, vendor, "disabled")
    # A vendor job across cities: the city accounts of this vendor, in every city.
    shadows = select(StaffMember.id).where(StaffMember.vendor_id == vendor.id)
    result = db.session.execute(
        update(StaffSession).where(StaffSession.staff_id.in_(shadows), StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow_naive(), end_reason="disabled")
        .execution_options(all_tenants=True, synchronize_session=False)
    )
    log.info("vendor staff disabled: vendor:%s", vendor.id)
    return result.rowcount or 0


def authenticate(email: str, password: str, remote_addr: str, device_token: str | None = None) -> LoginAttempt:
    """Check email and password under the login throttles (core/auth/throttling.py); an
    unknown email costs the same work. A valid device cookie (``device_token``: this browser
    logged in before) counts on its own, so others' failures never slow or block it."""
    email = normalise_email(email)
    counters = throttling.login_counters(throttling.VENDOR, email, remote_addr,
                                         devices.device_key(devices.VENDOR, None, email, device_token))
    attempt = check_password(None, counters, lambda: find_vendor(email), password)
    if attempt.throttled:
        log.warning("vendor login throttled (slowed=%s)", attempt.slowed)
    elif attempt.account is None:
        log.warning("vendor login failed (%s)", attempt.reason)
        if attempt.tripped and attempt.found is not None:
            # Vendors belong to no city, and the outbox is per city: the operators lift it
            # with `flask vendor unlock EMAIL`; the known browsers are never slowed.
            log.warning("vendor login slowed for new devices: %s", attempt.found.actor)
    return attempt


def lift_slowdown(vendor: VendorStaff) -> None:
    """Forget the unknown-device failures of a vendor account (`flask vendor unlock`)."""
    throttling.lift_account(None, throttling.VENDOR, vendor.email)
    log.info("vendor login slowdown lifted: %s", vendor.actor)


def remember_device(response, vendor: VendorStaff) -> None:
    """After a completed login: this browser is a known device of the account from now on."""
    devices.remember(devices.VENDOR, response, devices.issue(devices.VENDOR, None, vendor.email))


def verify_totp(vendor: VendorStaff, code: str) -> LoginAttempt:
    """Check the second-factor code (each code works once), throttled per vendor staff member."""
    return second_factor.verify(None, throttling.VENDOR.second_factor, vendor, code)


# --- sessions ---------------------------------------------------------------------------

def start_session(vendor: VendorStaff, remote_addr: str) -> None:
    """A fresh live session (flushed) in the cookie, ending this browser's older one; stamps the login."""
    sessions.start_in_cookie(VENDOR, vendor, remote_addr)
    vendor.last_login_at = utcnow_naive()
    log.info("vendor login: vendor:%s from %s", vendor.id, remote_addr)


def end_session(reason: str = "logout") -> None:
    """End this browser's vendor session (row and cookie key)."""
    sessions.end_in_cookie(VENDOR, reason)


def load_vendor() -> None:
    """Before every vendor console request: ``g.vendor_staff`` from a live session, or None."""
    g.vendor_staff = sessions.load_from_cookie(VENDOR, None).account


def set_pending(vendor: VendorStaff) -> None:
    """Remember who passed the password step, for the second-factor step only."""
    pending.set_pending(VENDOR, vendor)


def pending_vendor() -> VendorStaff | None:
    """The vendor staff member between password and code (at most PENDING_SECONDS)."""
    return pending.pending_account(VENDOR, None)


def vendor_required(view: Callable) -> Callable:
    """Decorator: a logged-in vendor staff member, else a redirect to the vendor login."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("vendor_staff") is None:
            return redirect(url_for("vendor.login"))
        return view(*args, **kwargs)

    wrapper.vendor_required = True  # type: ignore[attr-defined] - read by tests walking the routes
    return wrapper

