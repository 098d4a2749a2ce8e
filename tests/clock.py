"""The suite's one clock (time-machine): every test runs at :data:`DAYTIME`, stopped,
whatever the hour CI runs at; a test that needs another moment moves it explicitly.

The ``clock`` fixture (tests/conftest.py, autouse) is a :class:`Clock`:
``clock.move_to(aware datetime)``, ``clock.shift(minutes=...)``, ``clock.now``.

time-machine replaces the C-level clock functions for the whole process (``time.time``,
``datetime.now``, ...), so code under test, the ``limits`` throttles and the live server's
threads all read this clock; only the monotonic clocks (timeouts, waits) keep running.
Under libfaketime (``make test-night``) the real clock is another hour, but nothing
reads it while a test runs.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from zoneinfo import ZoneInfo

import time_machine

JST = ZoneInfo("Asia/Tokyo")
# Wednesday 2026-11-18 10:00 JST: a business day (no national holiday) inside every
# city's service hours (Kanazawa's are 07:00-02:00).
DAYTIME = dt.datetime(2026, 11, 18, 10, 0, tzinfo=JST)


class Clock:
    """The process clock travelled to ``start``; stopped unless ``tick=True``."""

    def __init__(self, start: dt.datetime = DAYTIME, *, tick: bool = False) -> None:
        self.now = start
        self._travel = time_machine.travel(start, tick=tick)
        self._traveller = self._travel.start()

    def move_to(self, when: dt.datetime) -> None:
        """Jump to the aware datetime ``when`` (forwards or backwards)."""
        self.now = when
        self._traveller.move_to(when)

    def shift(self, **delta) -> None:
        """Move by a :class:`datetime.timedelta` given as keywords (``minutes=31``)."""
        self.move_to(self.now + dt.timedelta(**delta))

    def stop(self) -> None:
        """Give the process its real clock back."""
        self._travel.stop()


def _event_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


def work_around_libfaketime() -> None:
    """Under libfaketime (``make test-night``) make ``time.sleep`` wait on an Event instead.

    libfaketime 0.9.10 (Debian 12) and CPython 3.11 disagree whichever way its monotonic
    clock is set: faked, every timed lock wait hangs (``sem_clockwait`` is not intercepted
    and the faked monotonic clock counts from the epoch); not faked (``--exclude-monotonic``,
    as the Makefile runs it), ``time.sleep`` fails with EINVAL (its absolute
    ``clock_nanosleep`` deadline is translated as if it were wall-clock time), and so does
    ``subprocess`` waiting with a timeout. A timed Event wait needs neither.
    """
    if "faketime" in os.environ.get("LD_PRELOAD", ""):
        time.sleep = _event_sleep


@contextlib.contextmanager
def without_libfaketime():
    """Processes started inside run on the real clock: Chromium does not load pages under
    libfaketime. The live server it talks to runs in this process, on :class:`Clock`."""
    saved = {name: os.environ.pop(name) for name in ("LD_PRELOAD", "FAKETIME") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
