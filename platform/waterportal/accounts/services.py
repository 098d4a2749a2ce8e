"""Login, logout, session ending, password reset and password changes (writes flush; the caller commits).

Enumeration and brute force are handled here, not in the views:

* a wrong login ID/email and a wrong password give the same result after the same work
  (an argon2 verify against a dummy hash when the account does not exist);
* failures are throttled (core/auth/throttling.py): a browser that logged in before counts
  on its own; any other counts per account identifier (a slowdown, never a block: the owner
  is mailed an unlock link) and per client address; windows expire by themselves;
* a reset request queues a mail whether or not the address is registered, so the page,
  the database work and the timing are the same either way.
"""
from __future__ import annotations

import logging
import unicodedata

from flask import url_for
from sqlalchemy import func, select

from waterportal.accounts.models import Member, MemberUnlockLink
from waterportal.accounts.session import end_member_sessions, end_session, start_session
from waterportal.accounts.tokens import MAX_AGE, PASSWORD_RESET, make_token
from waterportal.audit import services as audit
from waterportal.core import throttle
from waterportal.core.auth import devices, throttling, unlock
from waterportal.core.auth.login import LoginAttempt, check_password
from waterportal.core.auth.passwords import hash_password, password_problems
from waterportal.core.text import normalise_email
from waterportal.core.throttle import Rule
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.services import portal_url, queue_mail
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.accounts")

RESET_ADDRESS = Rule("reset-address", "3 per 1 hour")
RESET_IP = Rule("reset-ip", "20 per 1 hour")
UNLOCK = unlock.UnlockKind(MemberUnlockLink, Member, "member_id")


def normalise_identifier(tenant: TenantContext, raw: str | None) -> str:
    """The form of a typed email or login ID used for lookups and throttle keys."""
    if tenant.login_mode == "email":
        return normalise_email(raw)
    return unicodedata.normalize("NFKC", raw or "").strip()


def find_member(tenant: TenantContext, identifier: str) -> Member | None:
    """The member of this city whose email (email cities) or login ID (ignoring case) matches."""
    if not identifier:
        return None
    if tenant.login_mode == "email":
        condition = Member.email == identifier
    else:
        # Registration keeps login IDs as typed but unique ignoring case; match the same way.
        condition = func.lower(Member.login_id) == identifier.lower()
    return db.session.scalar(select(Member).where(Member.tenant_id == tenant.id, condition))


def find_member_by_email(tenant: TenantContext, email: str) -> Member | None:
    """The member of this city registered with ``email`` (already normalised)."""
    if not email:
        return None
    return db.session.scalar(select(Member).where(Member.tenant_id == tenant.id, Member.email == email))


def account_key(tenant: TenantContext, identifier: str) -> str:
    """The key a typed identifier's login failures and device cookies go under."""
    return normalise_identifier(tenant, identifier).lower() or "-"


def member_key(tenant: TenantContext, member: Member) -> str:
    """The key this member's logins count under (their email or login ID, per the city)."""
    return account_key(tenant, member.email if tenant.login_mode == "email" else (member.login_id or ""))


def authenticate(
    tenant: TenantContext, identifier: str, password: str, remote_addr: str, device_token: str | None = None
) -> LoginAttempt:
    """Check credentials under the throttles; on success clear the counter and rehash.

    ``identifier`` is normalised with :func:`normalise_identifier` first. A valid device
    cookie for this account (``device_token``) swaps the account and address counters for
    the device's own, so failures by others never slow or block a browser that logged in
    before. The failure that starts the account's slowdown mails the member an unlock link.
    """
    identifier = normalise_identifier(tenant, identifier)
    key = account_key(tenant, identifier)
    counters = throttling.login_counters(throttling.MEMBER, key, remote_addr,
                                         devices.device_key(devices.MEMBER, tenant, key, device_token))
    attempt = check_password(tenant, counters, lambda: find_member(tenant, identifier), password)
    if attempt.throttled:
        log.warning("login throttled (tenant=%s)", tenant.slug)
    elif attempt.account is None:
        if attempt.tripped and attempt.found is not None:
            mail_unlock_link(tenant, attempt.found, remote_addr)
    else:
        attempt.device_token = devices.issue(devices.MEMBER, tenant, key)
    return attempt


def mail_unlock_link(tenant: TenantContext, member: Member, remote_addr: str) -> None:
    """Mail the member a link that makes one browser a known device (core/auth/unlock.py)."""
    key = unlock.issue(UNLOCK, member)
    queue_mail(tenant, member.email, "login_unlock", member=member, minutes=unlock.UNLOCK_SECONDS // 60,
               link=portal_url(tenant, url_for("accounts.unlock_login", token=key)))
    audit.record("anonymous", "login.slowed", target=f"member:{member.id}", remote_addr=remote_addr)


def unlock_device(tenant: TenantContext, token: str, remote_addr: str) -> str:
    """Use an unlock link up; return the device cookie value that makes this browser a
    known device of its member. Raises unlock.LinkExpired / LinkInvalid."""
    member = unlock.claim(UNLOCK, tenant, token)
    audit.record(f"member:{member.id}", "login.unlocked", target=f"member:{member.id}", remote_addr=remote_addr)
    return devices.issue(devices.MEMBER, tenant, member_key(tenant, member))


def log_in(member: Member, remote_addr: str = "", user_agent: str = "") -> str:
    """Start a server-side session for ``member``; return its key (the view puts it in the cookie)."""
    key = start_session(member, remote_addr, user_agent)
    member.last_login_at = utcnow_naive()
    audit.record(f"member:{member.id}", "login", target=f"member:{member.id}", remote_addr=remote_addr)
    return key


def log_out(member: Member, key: str | None, remote_addr: str = "") -> None:
    """End this one session server-side (other devices stay logged in)."""
    end_session(key, "logout")
    audit.record(f"member:{member.id}", "logout", target=f"member:{member.id}", remote_addr=remote_addr)


def password_errors(tenant: TenantContext, member: Member, password: str) -> list[str]:
    """The city's policy (on the platform floor) applied to a new password of ``member``."""
    return password_problems(password, tenant.settings["password_policy"], email=member.email,
                             login_id=member.login_id, name=member.nickname)


def set_password(
    tenant: TenantContext, member: Member, password: str, *, actor: str, keep_key: str | None = None,
    remote_addr: str = "",
) -> int:
    """Store a new password, end the member's other sessions and mail a notice.

    ``keep_key`` is the session to keep (a logged-in change); a reset keeps none.
    Returns the number of sessions ended. Check :func:`password_errors` first.
    """
    member.password_hash = hash_password(password)
    ended = end_member_sessions(member, "password_changed", keep_key=keep_key)
    changed_at = local_now(tenant.timezone)
    queue_mail(tenant, member.email, "password_changed", member=member, changed_at=changed_at,
               login_url=portal_url(tenant, url_for("accounts.login")))
    audit.record(actor, "password.changed", target=f"member:{member.id}", remote_addr=remote_addr,
                 sessions_ended=ended)
    return ended


def request_password_reset(tenant: TenantContext, email: str, remote_addr: str) -> int:
    """Mail a reset link to ``email`` if it is registered, else a "not registered" note.

    Both paths render and queue one mail, so the answer and its timing do not tell whether
    the address exists. Returns seconds to wait when throttled, else 0.
    """
    email = normalise_email(email)
    rules = [(RESET_ADDRESS, email or "-"), (RESET_IP, remote_addr or "-")]
    wait = throttling.wait(tenant, rules)
    if wait:
        return wait
    for rule, key in rules:
        throttle.hit(tenant, rule, key)
    member = find_member_by_email(tenant, email)
    minutes = MAX_AGE[PASSWORD_RESET] // 60
    if member is not None:
        link = portal_url(tenant, url_for("accounts.reset_password", token=make_token(tenant, member, PASSWORD_RESET)))
        audit.record(f"member:{member.id}", "password.reset_requested", target=f"member:{member.id}",
                     remote_addr=remote_addr)
    else:
        link = None
        audit.record("anonymous", "password.reset_requested", target="unknown", remote_addr=remote_addr)
    queue_mail(tenant, email, "password_reset", member=member, link=link, minutes=minutes,
               forgot_url=portal_url(tenant, url_for("accounts.forgot_password")),
               valid_seconds=MAX_AGE[PASSWORD_RESET])  # not delivered once the link is dead
    return 0
