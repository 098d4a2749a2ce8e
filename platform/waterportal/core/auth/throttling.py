"""Login throttles: nothing an attacker does keeps an account's owner out.

A login attempt counts against one of two things, never both:

* **a known device** (a browser holding this account's device cookie, core/auth/devices.py:
  it logged in before, or opened the account's unlock link): its own counter
  (``device``), a block of that browser alone. Others' failures never touch it.
* **an unknown device**: the account's counter (``account``) *and* the client address's
  (``address``). The address counter blocks that address (one address spraying many
  accounts); the account counter never blocks: past its limit each attempt waits a little
  longer (:data:`DELAYS`, at most two minutes), and the first time in a window the account's
  owner is mailed an unlock link (the caller does that when :attr:`Failure.tripped`).

The limits are data (one :class:`LoginLimits` per account kind); the rule names are the
throttle keys in storage. Windows slide and expire by themselves (core/throttle.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waterportal.core import throttle
from waterportal.core.throttle import Rule

# Seconds an unknown device waits after the 1st, 2nd, ... failure past the account's limit
# (the last one repeats). A slowdown, never a lock: an attacker taking every slot gets a
# few guesses more per window than the limit, while the owner waits at most two minutes,
# or opens the mailed link and logs in at once.
DELAYS = (2, 4, 8, 15, 30, 60, 120)


@dataclass(frozen=True)
class LoginLimits:
    """The throttles of one account kind's login."""

    account: Rule  # failures per account from unknown devices; past it, the slowdown
    address: Rule  # failures per client address from unknown devices; past it, a block
    device: Rule  # failures per known device (its own counter); past it, a block of that browser
    second_factor: Rule | None = None  # wrong codes per account

    @property
    def slow(self) -> Rule:
        """Failures past the account's limit in its window (how long the next one waits)."""
        return Rule(f"{self.account.name}-slow", f"100 per {self.account.item().get_expiry()} seconds")

    @property
    def notice(self) -> Rule:
        """At most one unlock mail per account and window."""
        return Rule(f"{self.account.name}-mail", f"1 per {self.account.item().get_expiry()} seconds")

    @property
    def notice_daily(self) -> Rule:
        """At most three unlock mails per account a day: an attack kept up for days must not
        turn into a mail every window in the owner's inbox."""
        return Rule(f"{self.account.name}-mail-day", "3 per day")

    def gate(self, step: int) -> Rule:
        """One attempt per ``DELAYS[step]`` seconds."""
        return Rule(f"{self.account.name}-wait", f"1 per {DELAYS[min(step, len(DELAYS) - 1)]} seconds")


MEMBER = LoginLimits(
    account=Rule("login-account", "5 per 15 minutes"),
    address=Rule("login-ip", "30 per 15 minutes"),
    device=Rule("login-device", "5 per 15 minutes"),
)
STAFF = LoginLimits(
    account=Rule("staff-login-account", "5 per 15 minutes"),
    address=Rule("staff-login-ip", "20 per 15 minutes"),
    device=Rule("staff-login-device", "5 per 15 minutes"),
    second_factor=Rule("staff-totp", "5 per 15 minutes"),
)
# Platform-wide (no city): the vendor console belongs to none.
VENDOR = LoginLimits(
    account=Rule("vendor-login-account", "5 per 15 minutes"),
    address=Rule("vendor-login-ip", "20 per 15 minutes"),
    device=Rule("vendor-login-device", "5 per 15 minutes"),
    second_factor=Rule("vendor-totp", "5 per 15 minutes"),
)

Keys = list[tuple[Rule, str]]


@dataclass(frozen=True)
class Counters:
    """What one login attempt counts against (see the module docstring)."""

    limits: LoginLimits
    account: str  # the typed identifier, normalised
    address: str
    device: str | None = None  # the known device's key, when the browser is one for this account


@dataclass(frozen=True)
class Wait:
    """Seconds before another attempt; ``slowed``: the account's slowdown, not a block."""

    seconds: int = 0
    slowed: bool = False


@dataclass(frozen=True)
class Failure:
    """What one failure did: ``tripped`` when it started the account's slowdown for this
    window (the owner is mailed an unlock link then, once per window)."""

    tripped: bool = False


def login_counters(limits: LoginLimits, account_key: str, address: str, device_key: str | None = None) -> Counters:
    """The counters of one login attempt (``device_key``: from devices.device_key)."""
    return Counters(limits, account_key or "-", address or "-", device_key)


def wait(tenant: Any, keys: Keys) -> int:
    """Seconds until every rule allows another event (0: not blocked)."""
    waits = [throttle.retry_after(tenant, rule, key) for rule, key in keys if not throttle.allowed(tenant, rule, key)]
    return max(waits, default=0)


def login_wait(tenant: Any, counters: Counters) -> Wait:
    """Whether this attempt must wait, and how long, before its password is even checked."""
    limits = counters.limits
    if counters.device is not None:
        return Wait(wait(tenant, [(limits.device, counters.device)]))
    blocked = wait(tenant, [(limits.address, counters.address)])
    if blocked:
        return Wait(blocked)
    if not _slowed(tenant, limits, counters.account):
        return Wait()
    # Past the account's limit: the gate the last failure set (its step = failures past it - 1).
    # Taken, not only tested: attempts arriving together while it is open would otherwise
    # all pass and each check a password (a success lifts it, a failure sets the next one).
    gate = limits.gate(max(0, throttle.used(tenant, limits.slow, counters.account) - 1))
    if not throttle.hit(tenant, gate, counters.account):
        if not throttle.allowed(tenant, gate, counters.account):
            return Wait(throttle.retry_after(tenant, gate, counters.account), slowed=True)
        # At the instant the gate opens, hit still counts its last event and test no longer
        # does (limits' moving window): empty it and take it.
        throttle.clear(tenant, gate, counters.account)
        throttle.hit(tenant, gate, counters.account)
    return Wait(slowed=True)


def _slowed(tenant: Any, limits: LoginLimits, account_key: str) -> bool:
    # Past the limit, or failures past it in the last window: the account counter alone
    # records no failure past its limit, so it would forget an attack still going on.
    return not throttle.allowed(tenant, limits.account, account_key) or throttle.used(tenant, limits.slow, account_key) > 0


def login_failed(tenant: Any, counters: Counters) -> Failure:
    """Count one failure; past the account's limit, close the gate for the next attempt."""
    limits = counters.limits
    if counters.device is not None:
        throttle.hit(tenant, limits.device, counters.device)
        return Failure()
    throttle.hit(tenant, limits.address, counters.address)
    throttle.hit(tenant, limits.account, counters.account)
    if not _slowed(tenant, limits, counters.account):
        return Failure()
    step = throttle.used(tenant, limits.slow, counters.account)
    throttle.hit(tenant, limits.slow, counters.account)
    # Emptied first: a gate that just opened may still hold its last event at the boundary.
    throttle.clear(tenant, limits.gate(step), counters.account)
    throttle.hit(tenant, limits.gate(step), counters.account)
    tripped = throttle.hit(tenant, limits.notice, counters.account) and throttle.hit(
        tenant, limits.notice_daily, counters.account)
    return Failure(tripped=tripped)


def login_succeeded(tenant: Any, counters: Counters) -> None:
    """A success lifts the counter it was checked under (the address keeps its own)."""
    limits = counters.limits
    if counters.device is not None:
        throttle.clear(tenant, limits.device, counters.device)
    else:
        lift_account(tenant, limits, counters.account)


def lift_account(tenant: Any, limits: LoginLimits, account_key: str) -> None:
    """Forget an account's unknown-device failures and slowdown (support staff, the CLI)."""
    throttle.clear(tenant, limits.account, account_key)
    throttle.clear(tenant, limits.slow, account_key)
    for step in range(len(DELAYS)):
        throttle.clear(tenant, limits.gate(step), account_key)
