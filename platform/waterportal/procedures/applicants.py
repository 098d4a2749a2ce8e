"""Applicants without an account (使用開始, 使用中止 by お客様番号): their email address is
verified with the platform's 6-digit code (``accounts/verification.py``: hashed codes, 5
tries, resend interval, hourly cap per address) before a form is accepted.

The code is bound to a subject kept in the applicant's session (``procedure:<random>``),
so it verifies only in the browser that asked for it. One client address may have at most
:data:`SENDS_PER_CLIENT` codes mailed per hour, whatever the addresses (as registration).
"""
from __future__ import annotations

import secrets

from waterportal.accounts.verification import CheckResult, ResendTooSoon, check_code, issue_code
from waterportal.core import throttle
from waterportal.core.text import normalise_email
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import TenantContext

PURPOSE = "procedure"
SENDS_PER_CLIENT = throttle.Rule("procedure-send-client", "20 per hour")
# How long a verified address may file procedures in this browser session.
VERIFIED_MINUTES = 120


def new_subject() -> str:
    """A fresh subject for one applicant's browser session."""
    return f"procedure:{secrets.token_urlsafe(16)}"


def send_code(tenant: TenantContext, email: str, subject: str, remote_addr: str = "") -> str:
    """Mail a code to ``email`` for ``subject``; return the normalised address. Raises
    :class:`ResendTooSoon` inside the resend interval, the hourly cap or the client's cap.
    Flushes only."""
    email = normalise_email(email)
    ttl = tenant.settings["registration"]["code_ttl_minutes"]
    if remote_addr and not throttle.allowed(tenant, SENDS_PER_CLIENT, remote_addr):
        raise ResendTooSoon(throttle.retry_after(tenant, SENDS_PER_CLIENT, remote_addr))
    code = issue_code(tenant, PURPOSE, email, subject, ttl)
    if remote_addr:
        throttle.hit(tenant, SENDS_PER_CLIENT, remote_addr)
    queue_mail(tenant, email, "verification_code", code=code, ttl_minutes=ttl, purpose=PURPOSE,
               valid_seconds=ttl * 60)
    return email


def verify_code(tenant: TenantContext, email: str, subject: str, code: str) -> CheckResult:
    """Check the typed code (a wrong one counts a try; the caller commits either way)."""
    return check_code(tenant, PURPOSE, normalise_email(email), subject, code)
