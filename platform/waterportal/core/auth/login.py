"""The password step of a login, the same for every account kind.

An unknown identifier costs the same argon2 work as a wrong password, and both count
against the throttles; a disabled account fails like a wrong password. A success lifts
the account's counter and upgrades an old hash.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waterportal.core.auth import throttling
from waterportal.core.auth.passwords import hash_password, needs_rehash, verify_password

log = logging.getLogger("waterportal.auth")


@dataclass
class LoginAttempt:
    """The outcome of a password or second-factor check: an account, a refusal, or a throttle."""

    account: Any | None = None
    throttled: bool = False
    retry_after: int = 0
    # On a refusal: the account the identifier named, if any (for the audit log), and why.
    found: Any | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.account is not None


def check_password(tenant: Any, keys: throttling.Keys, find: Callable[[], Any | None], password: str) -> LoginAttempt:
    """Check ``password`` against the account ``find()`` returns, under the throttles ``keys``.

    ``find`` runs only when not throttled. ``tenant`` is the city (None: platform-wide).
    """
    wait = throttling.wait(tenant, keys)
    if wait:
        return LoginAttempt(throttled=True, retry_after=wait)
    account = find()
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None or getattr(account, "disabled", False):
        throttling.failed(tenant, keys)
        return LoginAttempt(found=account, reason="disabled" if ok and account is not None else "password")
    throttling.succeeded(tenant, keys)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        log.info("password rehashed at login (%s)", type(account).__name__)
    return LoginAttempt(account=account)
