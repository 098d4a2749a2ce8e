"""Work started at the same moment in several threads, each on its own app instance (as
gunicorn workers are), for the tests of what must hold when requests or jobs race."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Flask

from waterportal.extensions import db

T = TypeVar("T")


def at_once(apps: Sequence[Flask], work: Callable[[Flask], T], timeout: float = 60) -> list[T]:
    """Run ``work(app)`` for every app in its own thread, all released together; return
    the results (in finishing order). Each thread has the app's context and ends its
    session; any exception in a thread fails the caller."""
    start = threading.Barrier(len(apps))
    results: list[T] = []
    errors: list[BaseException] = []

    def run(app: Flask) -> None:
        try:
            with app.app_context():
                db.session.rollback()  # whatever the set-up read: each thread begins its own transactions
                start.wait()
                results.append(work(app))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not errors, errors
    return results
