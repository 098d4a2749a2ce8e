"""The TOTP second factor (RFC 6238, 30 s steps, 6 digits) of city and vendor staff.

A code works once: the last accepted time step is stored on the account
(``totp_last_step``) and any step at or before it is refused. Wrong codes are throttled
per account. The secret is stored encrypted (:mod:`.secret_box`): :func:`set_secret` and
:func:`verify` are the only places that touch ``totp_secret``'s contents.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

import pyotp

from waterportal.core import throttle
from waterportal.core.auth import secret_box
from waterportal.core.auth.login import LoginAttempt
from waterportal.core.throttle import Rule
from waterportal.core.time import utcnow

log = logging.getLogger("waterportal.auth")


def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def matching_step(secret: str, code: str, after_step: int | None = None) -> int | None:
    """The time step ``code`` belongs to (one step of clock drift allowed), else None.

    Steps at or before ``after_step`` are refused, so a code works once only.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        if secrets.compare_digest(totp.at(now, counter_offset=offset), code):
            step = current + offset
            if after_step is not None and step <= after_step:
                return None
            return step
    return None


def set_secret(account: Any, secret: str, step: int) -> None:
    """Turn ``account``'s second factor on: ``secret`` stored sealed, ``step`` (the enrolment
    code's) already used."""
    account.totp_secret = secret_box.seal(secret)
    account.totp_last_step = step


def _secret_of(account: Any) -> str | None:
    """The account's secret, or None when it has none or no configured key opens it (then
    every code fails: a missing key never turns the second factor off)."""
    if not account.totp_secret:
        return None
    try:
        return secret_box.unseal(account.totp_secret)
    except secret_box.SealError:
        log.error("TOTP secret of %s %s opens with no key of TOTP_ENCRYPTION_KEYS", type(account).__name__, account.id)
        return None


def verify(tenant: Any, rule: Rule, account: Any, code: str) -> LoginAttempt:
    """Check ``account``'s code under ``rule`` (per account); on success record its step.

    ``tenant`` is the city (None: platform-wide). An account without a secret always fails.
    """
    key = str(account.id)
    if not throttle.allowed(tenant, rule, key):
        return LoginAttempt(throttled=True, retry_after=throttle.retry_after(tenant, rule, key))
    secret = _secret_of(account)
    step = matching_step(secret, code, account.totp_last_step) if secret else None
    if step is None:
        throttle.hit(tenant, rule, key)
        return LoginAttempt(found=account, reason="totp")
    account.totp_last_step = step
    throttle.clear(tenant, rule, key)
    return LoginAttempt(account=account)
