"""How the platform uses its database connection: SQLite's transactions, and telling a
database that is away (or busy) from a bug.

**SQLite** (the embedded default: development, ``make demo``, small cities). Every
connection runs in WAL mode (readers never wait for the writer) with a busy timeout, and
SQLAlchemy, not pysqlite, emits ``BEGIN`` (SQLAlchemy's documented pysqlite recipe:
``isolation_level = None`` on connect, ``BEGIN`` in the ``begin`` event), so savepoints
and rollbacks behave. Which ``BEGIN``:

- ``BEGIN IMMEDIATE`` for a transaction that will write: in a POST/PUT/PATCH/DELETE
  request, and outside requests (CLI commands, the outbox worker, the mail thread), which
  read in order to write. It takes the write lock at once, waiting (busy timeout, then a
  few bounded retries) for the current writer to finish. A deferred transaction that has
  read and then writes cannot wait: SQLite answers "database is locked" at once whenever
  another connection wrote in between, which is what made simultaneous logins fail.
- plain (deferred) ``BEGIN`` for GET/HEAD/OPTIONS: page views read side by side. The
  few that write (a session's activity, once a minute) may meet a writer; such a request
  is run again from the start by :class:`RetryBusyReads` (bounded), and only if it stays
  busy the citizen gets the 503 page, never a 500.

:func:`writing_transactions` overrides the choice for a block of code.
:func:`one_at_a_time` serialises a check-then-insert on PostgreSQL as the write lock does on SQLite.
:func:`release_write_lock` ends a writing transaction that has written nothing yet before
slow work (password hashing), so one login's argon2 does not hold every other writer up.

**Unavailable database** (:func:`is_unavailable`): a lost connection, a refused one, a
pool timeout, PostgreSQL's operational errors, SQLite busy. The error handlers
(:mod:`waterportal.core.errors`) answer those with the city's 503 page and
``Retry-After``; everything else stays a bug (500). Connections are not pinged before use
(``pool_pre_ping`` cost a round trip a request): a request on a connection lost while idle
gets the 503 page, and SQLAlchemy's disconnect handling then invalidates every connection
of the pool older than that one, so the next request connects afresh (``pool_recycle`` in
config/default.toml replaces connections before idle timeouts cut them).
"""
from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from waterportal.extensions import db

log = logging.getLogger("waterportal.database")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# SQLite waits this long inside one BEGIN IMMEDIATE (its busy handler) ...
BUSY_TIMEOUT_MS = 10000
# ... and BEGIN IMMEDIATE is tried this many times: a writer waits up to about a minute (a
# reverse proxy's usual read timeout) before its citizen gets the 503 page. Under a burst
# the queue of writers is long but each holds the lock briefly (no hashing, see
# release_write_lock), so waiting is better than refusing. Sync gunicorn workers with the
# default --timeout 30 would be killed first: SQLite deployments run threaded workers
# (docs/reliability.md).
BEGIN_ATTEMPTS = 6
# A GET that met a writer is run again this many times in all.
READ_ATTEMPTS = 4
# What the 503 answers ask a client to wait, in seconds.
RETRY_AFTER_BUSY = 2
RETRY_AFTER_DOWN = 10
# Set in the WSGI environ by the error handler when a request failed on a busy SQLite file.
BUSY_FLAG = "waterportal.database_busy"

# Connection info key: the connection's total_changes when its BEGIN IMMEDIATE succeeded.
_HELD = "waterportal.immediate_at"

_immediate: ContextVar[bool | None] = ContextVar("waterportal_sqlite_immediate", default=None)


def wants_immediate() -> bool:
    """Whether the transaction beginning now will write (see the module docstring)."""
    chosen = _immediate.get()
    if chosen is not None:
        return chosen
    if has_request_context():
        return request.method in WRITE_METHODS
    return True


@contextmanager
def writing_transactions(immediate: bool = True) -> Iterator[None]:
    """Transactions begun inside the block are (or, with ``False``, are not) ``BEGIN IMMEDIATE``."""
    token = _immediate.set(immediate)
    try:
        yield
    finally:
        _immediate.reset(token)


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" (SQLITE_BUSY / SQLITE_LOCKED, extended codes included)."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(orig) or "busy" in str(orig)


def one_at_a_time(key: str) -> None:
    """Until the current transaction ends, let no other transaction that asks for ``key`` past
    this point: for a check-then-insert no unique key can say (an identical submission
    *within minutes*). PostgreSQL: a transaction-scoped advisory lock on the key's hash, so the
    second transaction waits and then, reading committed data, sees what the first stored.
    SQLite: nothing to do, a writing transaction already holds the database's one write lock
    (``BEGIN IMMEDIATE``)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot answer right now (not that the code is wrong).

    PostgreSQL: a refused or lost connection (OperationalError, InterfaceError, an
    invalidated connection), a pool timeout. SQLite: only busy; its other operational
    errors ("no such table") are bugs.
    """
    # An error raised while SQLAlchemy handled a lost connection (a PendingRollbackError in
    # a rollback hook) is the outage too: look down the chain for its cause.
    seen = 0
    while exc is not None and seen < 5:
        if _unavailable_itself(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _unavailable_itself(exc: BaseException) -> bool:
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc.orig, sqlite3.Error):
        return is_busy(exc)
    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy, not pysqlite, emits BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(conn) -> None:
    driver = conn.connection.driver_connection
    if not wants_immediate():
        conn.info[_HELD] = None
        conn.exec_driver_sql("BEGIN")
        return
    # On the driver's connection: a failed attempt leaves SQLAlchemy's state untouched, so it
    # can be tried again. The busy timeout already waited inside each attempt.
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            driver.execute("BEGIN IMMEDIATE")
            conn.info[_HELD] = driver.total_changes  # rows changed so far: see release_write_lock
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == BEGIN_ATTEMPTS:
                raise sa_exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            log.info("SQLite busy at BEGIN IMMEDIATE (attempt %d of %d)", attempt, BEGIN_ATTEMPTS)
            time.sleep(random.uniform(0.05, 0.2) * attempt)


def release_write_lock() -> None:
    """Before slow work in a request (hashing a password): if the session holds SQLite's
    write lock (``BEGIN IMMEDIATE``) and has written nothing yet, end that transaction, so
    other writers need not wait for the hashing; the next query begins a new one.

    Loaded objects are expired and read again when next used. Nothing is ended when rows
    were written or are pending, inside a savepoint, or on another database.
    """
    if not has_request_context():
        return
    session = db.session()  # the request's Session (scoped_session proxies only part of its API)
    if not session.in_transaction() or session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return
    conn = session.connection()
    held = conn.info.get(_HELD)
    if conn.dialect.name != "sqlite" or held is None or conn.in_nested_transaction():
        return
    if conn.connection.driver_connection.total_changes == held:
        session.rollback()


def configure_engine(engine: Engine) -> None:
    """Install the SQLite behaviour above on ``engine`` (once); other databases are left alone."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


class _HeldStart:
    """A WSGI ``start_response`` that holds the status and headers until the answer is kept."""

    def __init__(self):
        self.args: tuple = ()
        self.written: list[bytes] = []

    def __call__(self, status, headers, exc_info=None):
        self.args = (status, headers, exc_info)
        return self.written.append

    def replay(self, start_response) -> None:
        write = start_response(*self.args)
        for chunk in self.written:
            write(chunk)


class RetryBusyReads:
    """WSGI middleware: a GET/HEAD/OPTIONS that failed because the SQLite file was busy
    (the error handler set :data:`BUSY_FLAG`) is run again from the start, at most
    :data:`READ_ATTEMPTS` times in all, after a short random pause. Writing requests are
    never replayed: they begin with ``BEGIN IMMEDIATE`` and wait for the lock instead.

    Replaying is safe because a GET changes nothing a citizen could see twice: its only
    write is the session's activity stamp, which is idempotent, and no GET queues a mail
    or an audit row (tests/accounts/test_get_changes_nothing.py compares every table
    before and after walking every GET route). A GET that must write more breaks that
    rule and has to become a POST."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD", "GET") not in SAFE_METHODS:
            return self.app(environ, start_response)
        for attempt in range(1, READ_ATTEMPTS + 1):
            held = _HeldStart()
            environ.pop(BUSY_FLAG, None)
            body = self.app(environ, held)
            if environ.get(BUSY_FLAG) and attempt < READ_ATTEMPTS:
                if hasattr(body, "close"):
                    body.close()
                log.info("SQLite busy during %s %s: running it again (attempt %d)",
                         environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), attempt + 1)
                time.sleep(random.uniform(0.02, 0.1) * attempt)
                continue
            held.replay(start_response)
            return body
        raise AssertionError("unreachable")  # pragma: no cover
