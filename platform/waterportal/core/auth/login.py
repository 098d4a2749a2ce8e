"""The password step of a login, the same for every account kind.

An unknown identifier costs the same argon2 work as a wrong password, and both count
against the throttles (core/auth/throttling.py: a known device's own counter, else the
account's and the address's); a disabled account fails like a wrong password. A success
lifts the counter it was checked under and upgrades an old hash.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from waterportal.core.auth import throttling
from waterportal.core.auth.passwords import hash_password, needs_rehash, verify_password
from waterportal.core.time import wait_minutes

log = logging.getLogger("waterportal.auth")

# The slowdown of an unknown device (every kind, known and unknown identifiers alike).
# Lazy: read in the login page's language (a member's page may be English or やさしい日本語).
SLOWED = _l(
    "ログインの失敗が続いているため、新しい端末からのログインに待ち時間を設けています。"
    "あと{seconds}秒お待ちいただいてから、もう一度お試しください。"
)


def throttled_message(attempt: LoginAttempt, blocked: str) -> str:
    """The page's message for a throttled attempt: the slowdown's seconds, or ``blocked``
    (a block of this address or this device, with ``{minutes}``)."""
    if attempt.slowed:
        return str(SLOWED).format(seconds=attempt.retry_after)
    return str(blocked).format(minutes=wait_minutes(attempt.retry_after))


@dataclass
class LoginAttempt:
    """The outcome of a password or second-factor check: an account, a refusal, or a throttle."""

    account: Any | None = None
    throttled: bool = False
    retry_after: int = 0
    # Throttled by the account's slowdown (unknown device): "wait N seconds", not a block.
    slowed: bool = False
    # This failure started the account's slowdown: mail the owner an unlock link (``found``).
    tripped: bool = False
    # On success: the device cookie value the caller sets (core/auth/devices.py).
    device_token: str | None = None
    # On a refusal: the account the identifier named, if any (for the audit log), and why.
    found: Any | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.account is not None


def check_password(
    tenant: Any, counters: throttling.Counters, find: Callable[[], Any | None], password: str
) -> LoginAttempt:
    """Check ``password`` against the account ``find()`` returns, under the throttles ``counters``.

    ``find`` runs only when not throttled. ``tenant`` is the city (None: platform-wide).
    """
    wait = throttling.login_wait(tenant, counters)
    if wait.seconds:
        return LoginAttempt(throttled=True, retry_after=wait.seconds, slowed=wait.slowed)
    account = find()
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None or getattr(account, "disabled", False):
        failure = throttling.login_failed(tenant, counters)
        return LoginAttempt(found=account, reason="disabled" if ok and account is not None else "password",
                            tripped=failure.tripped)
    throttling.login_succeeded(tenant, counters)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        log.info("password rehashed at login (%s)", type(account).__name__)
    return LoginAttempt(account=account)
