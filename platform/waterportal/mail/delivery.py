"""Deliver mail right after the commit that queued it, without the request waiting on SMTP.

Session events note the ids of OutboxMessage rows that were flushed and then committed
(``session.info``); at the end of the request those ids are handed on according to
``MAIL_DELIVERY``:

``thread`` (default)
    a daemon thread in the web process sends them; the response never waits on SMTP, so
    its timing and content are the same whether a mail was queued or the server is down.
``after_request``
    sent synchronously in ``teardown_request`` with the request's own session. Tests use it
    (deterministic; the rows live in the test's uncommitted outer transaction).
``worker``
    nothing happens in the web process; ``flask outbox send --loop`` picks them up.

Whatever the mode, a row is committed before anyone tries to send it, so a crash or an SMTP
outage never loses a mail: ``flask outbox send`` (the worker) retries what is still pending.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import SendCounts, send_ids

log = logging.getLogger("waterportal.mail")

MODES = ("thread", "after_request", "worker")
# Most mails one request sends itself; the rest wait for `flask outbox send`.
AFTER_COMMIT_LIMIT = 100
_FLUSHED = "waterportal.outbox.flushed"
_COMMITTED = "waterportal.outbox.committed"


def _after_flush(session: Session, _flush_context) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if ids:
        session.info.setdefault(_FLUSHED, set()).update(ids)


def _after_commit(session: Session) -> None:
    flushed = session.info.pop(_FLUSHED, None)
    if flushed:
        session.info.setdefault(_COMMITTED, set()).update(flushed)


def _after_rollback(session: Session) -> None:
    session.info.pop(_FLUSHED, None)


def install_outbox_tracking(session_factory) -> None:
    """Track committed outbox rows on every session of ``session_factory`` (idempotent)."""
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(session_factory, name, listener):
            event.listen(session_factory, name, listener)


def take_committed_ids(session: Session | None = None) -> list[int]:
    """Return and forget the ids of outbox rows committed in this session so far."""
    session = session if session is not None else db.session()
    return sorted(session.info.pop(_COMMITTED, ()))


class Dispatcher:
    """A queue and one daemon thread per process that runs ``target(app, ids)``.

    The thread starts on first use and again after a fork (gunicorn ``--preload``), since
    threads do not survive ``fork``. Lost work (process killed) is only a delay: the rows
    are committed and the worker sends whatever is still pending.
    """

    def __init__(self, target: Callable[[Flask, list[int]], object]):
        self.target = target
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, app: Flask, ids: Iterable[int]) -> None:
        """Hand ``ids`` to the thread and return at once."""
        ids = list(ids)
        if not ids:
            return
        self._ensure_thread()
        self._queue.put((app, ids))

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()  # a forked child must not inherit the parent's queue
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="waterportal-mail", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            app, ids = self._queue.get()
            if isinstance(ids, threading.Event):  # a join() marker
                ids.set()
                continue
            try:
                self.target(app, ids)
            except Exception:
                log.exception("mail delivery thread failed for outbox ids %s", ids)

    def join(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far was processed (tests, shutdown)."""
        done = threading.Event()
        self._ensure_thread()
        self._queue.put((None, done))
        return done.wait(timeout)


def deliver_in_app(app: Flask, ids: list[int]) -> None:
    """The thread's target: send ``ids`` in a fresh app context and session."""
    with app.app_context():
        try:
            counts = send_ids(ids)
            log.debug("delivered after commit: %s", counts)
        finally:
            db.session.remove()


class MailDelivery:
    """The app's delivery mode and its dispatcher (``app.extensions["waterportal.mail"]``)."""

    def __init__(self, mode: str):
        if mode not in MODES:
            raise ValueError(f"MAIL_DELIVERY must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.dispatcher = Dispatcher(deliver_in_app)

    def after_request(self, app: Flask) -> None:
        """Deliver the mails this request committed, as the mode says. Never raises."""
        ids = take_committed_ids()
        if not ids or self.mode == "worker":
            return
        # A bulk mailing (notices to every member) is the worker's job; the first few go now.
        ids = ids[:AFTER_COMMIT_LIMIT]
        try:
            if self.mode == "thread":
                self.dispatcher.submit(app, ids)
            else:
                send_ids(ids)
        except Exception:
            log.exception("delivery after commit failed for outbox ids %s", ids)
            db.session.rollback()


def deliver_committed():
    """Send now, synchronously, the mails this session has committed (CLI commands, tests)."""
    ids = take_committed_ids()
    return send_ids(ids) if ids else SendCounts()


def init_delivery(app: Flask) -> MailDelivery:
    """Install the session tracking and the delivery for ``MAIL_DELIVERY`` (the request
    pipeline calls it at the end of each request)."""
    install_outbox_tracking(Session)
    delivery = MailDelivery(app.config.get("MAIL_DELIVERY", "thread"))
    app.extensions["waterportal.mail"] = delivery
    return delivery


def forget_earlier_commits() -> None:
    """At the start of a request: only this request's mail is delivered at its end (by
    :meth:`MailDelivery.after_request`); ids committed earlier are the worker's."""
    take_committed_ids()
