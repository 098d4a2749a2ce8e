"""Throttles on named keys (login failures, code tries, contract matching, resends).

Built on the ``limits`` library, with the storage ``RATELIMIT_STORAGE_URI`` (memory for
one process, Redis for many workers). Keys are
always prefixed with the tenant id, so one city's throttles never touch another's.
Windows slide and expire by themselves: nothing an attacker triggers locks an
account for good.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from limits import parse, storage, strategies

if TYPE_CHECKING:  # annotations only: core sits below tenancy
    from waterportal.tenancy.context import TenantContext


@dataclass(frozen=True)
class Rule:
    """``limit`` events per ``window`` (a limits string such as ``"5 per 15 minutes"``)."""

    name: str
    limit: str

    def item(self):
        return parse(self.limit)


class LockedMemoryStorage(storage.MemoryStorage):
    """``memory://`` whose ``clear`` takes the per-key lock its expiry timer thread holds:
    in ``limits``' own class it does not, so a login that lifted a throttle while the timer
    ran could kill that thread with a ``KeyError`` (seen under ``make test-night``)."""

    STORAGE_SCHEME = ["waterportal-memory"]

    def clear(self, key: str) -> None:
        with self.locks[key]:
            super().clear(key)


def _limiter() -> strategies.MovingWindowRateLimiter:
    ext = current_app.extensions.get("waterportal.throttle")
    if ext is None:
        uri = current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")
        store = LockedMemoryStorage() if uri.startswith("memory://") else storage.storage_from_string(uri)
        ext = current_app.extensions["waterportal.throttle"] = strategies.MovingWindowRateLimiter(store)
    return ext


def _ids(tenant: TenantContext | None, rule: Rule, key: str) -> tuple[str, ...]:
    # ``None``: a platform-wide throttle (the vendor console, which belongs to no city).
    return (f"t{tenant.id}" if tenant is not None else "platform", rule.name, key)


def hit(tenant: TenantContext | None, rule: Rule, key: str) -> bool:
    """Count one event; False when the limit is already reached (the event is refused)."""
    return _limiter().hit(rule.item(), *_ids(tenant, rule, key))


def allowed(tenant: TenantContext | None, rule: Rule, key: str) -> bool:
    """Whether another event would be allowed now, without counting one."""
    return _limiter().test(rule.item(), *_ids(tenant, rule, key))


def retry_after(tenant: TenantContext | None, rule: Rule, key: str) -> int:
    """Seconds until the window frees a slot (0 when allowed)."""
    stats = _limiter().get_window_stats(rule.item(), *_ids(tenant, rule, key))
    if stats.remaining > 0:
        return 0
    return max(1, int(stats.reset_time - time.time()))


def used(tenant: TenantContext | None, rule: Rule, key: str) -> int:
    """Events counted in the current window (support staff see how close a citizen is)."""
    stats = _limiter().get_window_stats(rule.item(), *_ids(tenant, rule, key))
    return max(0, rule.item().amount - stats.remaining)


def clear(tenant: TenantContext | None, rule: Rule, key: str) -> None:
    """Lift a throttle (support staff, or after a successful login)."""
    _limiter().clear(rule.item(), *_ids(tenant, rule, key))


def reset_all() -> None:
    """Forget every counter (tests). Memory storage is replaced rather than emptied, so its
    expiry timer never races the emptying."""
    limiter = current_app.extensions.pop("waterportal.throttle", None)
    if limiter is not None and not isinstance(limiter.storage, storage.MemoryStorage):
        limiter.storage.reset()
