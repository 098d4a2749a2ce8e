"""Login throttles: failures counted per account identifier and per client address.

The limits are data (one :class:`LoginLimits` per account kind); the rule names are the
throttle keys in storage, so they stay as they are. Windows slide and expire by
themselves (core/throttle.py): nothing an attacker triggers locks an account for good.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waterportal.core import throttle
from waterportal.core.throttle import Rule


@dataclass(frozen=True)
class LoginLimits:
    """The throttles of one account kind's login."""

    account: Rule  # wrong passwords per account identifier (or per known device, members)
    address: Rule  # wrong passwords per client address
    second_factor: Rule | None = None  # wrong codes per account


MEMBER = LoginLimits(
    account=Rule("login-account", "5 per 15 minutes"),
    address=Rule("login-ip", "30 per 15 minutes"),
)
STAFF = LoginLimits(
    account=Rule("staff-login-account", "5 per 15 minutes"),
    address=Rule("staff-login-ip", "20 per 15 minutes"),
    second_factor=Rule("staff-totp", "5 per 15 minutes"),
)
# Platform-wide (no city): the vendor console belongs to none.
VENDOR = LoginLimits(
    account=Rule("vendor-login-account", "5 per 15 minutes"),
    address=Rule("vendor-login-ip", "20 per 15 minutes"),
    second_factor=Rule("vendor-totp", "5 per 15 minutes"),
)

Keys = list[tuple[Rule, str]]


def login_keys(limits: LoginLimits, account_key: str, address: str) -> Keys:
    """The (rule, key) pairs one login attempt counts against."""
    return [(limits.account, account_key or "-"), (limits.address, address or "-")]


def wait(tenant: Any, keys: Keys) -> int:
    """Seconds until every rule allows another event (0: not blocked)."""
    waits = [throttle.retry_after(tenant, rule, key) for rule, key in keys if not throttle.allowed(tenant, rule, key)]
    return max(waits, default=0)


def failed(tenant: Any, keys: Keys) -> None:
    """Count one failure against every key."""
    for rule, key in keys:
        throttle.hit(tenant, rule, key)


def succeeded(tenant: Any, keys: Keys) -> None:
    """A success lifts the account's counter (the address keeps its own)."""
    rule, key = keys[0]
    throttle.clear(tenant, rule, key)
