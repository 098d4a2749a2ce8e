"""The slowdown of an unknown browser is a gate that one attempt takes (issue 9 #2): two
attempts arriving together while it is open cannot both pass it and both check a password,
or the slowdown would let through as many guesses as the server runs requests at once."""
from __future__ import annotations

from waterportal.core.auth import throttling
from waterportal.core.auth.throttling import MEMBER, login_counters, login_failed, login_wait


def test_two_attempts_at_once_cannot_both_pass_an_open_gate(app, nayoro, clock):
    counters = login_counters(MEMBER, "gate@example.jp", "203.0.113.9")
    with app.app_context():
        for _ in range(5):  # the fifth failure starts the slowdown and closes the gate for 2 s
            login_failed(nayoro, counters)
        assert login_wait(nayoro, counters).seconds > 0
        clock.shift(seconds=throttling.DELAYS[0] + 1)
        first = login_wait(nayoro, counters)  # the gate is open: this attempt goes on ...
        second = login_wait(nayoro, counters)  # ... and one arriving meanwhile waits
    assert first.seconds == 0
    assert second.seconds > 0 and second.slowed
