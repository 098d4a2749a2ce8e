"""A frozen clock for tests that move time forward (code expiry, idle timeouts, throttles)."""
from __future__ import annotations

import datetime as dt

import time_machine


class FrozenClock:
    """``time_machine`` frozen at ``start``; ``shift(minutes=...)`` and ``move_to(when)`` move it."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self._traveller = time_machine.travel(start, tick=False)
        self._traveller.start()

    def shift(self, **delta) -> None:
        self.move_to(self.now + dt.timedelta(**delta))

    def move_to(self, when: dt.datetime) -> None:
        self._traveller.stop()
        self.now = when
        self._traveller = time_machine.travel(when, tick=False)
        self._traveller.start()

    def stop(self) -> None:
        self._traveller.stop()
