"""Throttles on named keys (login failures, code tries, contract matching, resends).

Built on the ``limits`` library, with the storage ``RATELIMIT_STORAGE_URI`` (memory for
one process, Redis for many workers). Keys are
always prefixed with the tenant id, so one city's throttles never touch another's.
Windows slide and expire by themselves: nothing an attacker triggers locks an
account for good.

When the shared storage (Redis) does not answer, each worker counts in its own memory
until it answers again (:class:`FallbackLimiter`): a Redis outage then weakens the limits
to per-worker ones for its duration instead of answering every login and code form 500.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from limits import parse, storage, strategies
from limits.errors import StorageError

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


log = logging.getLogger(__name__)

# While the shared storage is down, it is asked again after this long (monotonic seconds).
STORAGE_RETRY_SECONDS = 2.0
# A storage that does not connect or answer within this long counts as down.
STORAGE_TIMEOUT_SECONDS = 1.0


class FallbackLimiter:
    """A moving-window limiter on the shared storage that falls back to this worker's memory
    while that storage raises. Methods mirror ``limits``' limiter; each call tries the
    shared storage unless it failed less than :data:`STORAGE_RETRY_SECONDS` ago."""

    def __init__(self, shared: storage.Storage) -> None:
        self.shared = strategies.MovingWindowRateLimiter(shared)
        self.local = strategies.MovingWindowRateLimiter(LockedMemoryStorage())
        self.storage = shared
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether calls currently go to this worker's memory."""
        return time.monotonic() < self._down_until

    def _call(self, method: str, *args):
        if not self.down:
            try:
                result = getattr(self.shared, method)(*args)
            except StorageError as exc:
                with self._lock:
                    if not self.down:
                        log.warning("throttle storage %s is down (%s): counting in this worker's memory",
                                    type(self.storage).__name__, exc.storage_error)
                    self._down_until = time.monotonic() + STORAGE_RETRY_SECONDS
            else:
                return result
        return getattr(self.local, method)(*args)

    def hit(self, *args):
        return self._call("hit", *args)

    def test(self, *args):
        return self._call("test", *args)

    def get_window_stats(self, *args):
        return self._call("get_window_stats", *args)

    def clear(self, *args):
        # Lift the counter in both places, so an owner cleared during an outage stays clear.
        self.local.clear(*args)
        return self._call("clear", *args)


def _limiter() -> strategies.MovingWindowRateLimiter | FallbackLimiter:
    ext = current_app.extensions.get("waterportal.throttle")
    if ext is None:
        uri = current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")
        if uri.startswith("memory://"):
            ext = strategies.MovingWindowRateLimiter(LockedMemoryStorage())
        else:
            ext = FallbackLimiter(storage.storage_from_string(
                uri, wrap_exceptions=True,
                socket_connect_timeout=STORAGE_TIMEOUT_SECONDS, socket_timeout=STORAGE_TIMEOUT_SECONDS))
        current_app.extensions["waterportal.throttle"] = ext
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
