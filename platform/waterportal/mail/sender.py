"""Deliver the outbox through Flask-Mail, retrying failures with exponential backoff.

One message at a time:

1. **claim** (own transaction): pick the oldest due pending row with
   ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite ignores it) across all
   cities, then a conditional UPDATE bumps ``attempts`` and pushes ``next_attempt_at``
   a lease ahead. Only the sender whose UPDATE matched owns the row, so several
   senders (web threads, workers) never send the same row twice, and no row lock is
   held while talking to the SMTP server.
2. **send** over one SMTP connection per round (Flask-Mail ``Connection`` with a timeout).
3. **mark** (own transaction, under the row's tenant context): ``sent``; or back to
   pending with ``next_attempt_at`` = now + backoff; or ``failed`` after
   ``MAIL_MAX_ATTEMPTS`` or on a permanent (5xx) refusal.

A sender killed between 1 and 3 leaves the row claimed; it is retried once the lease ends.
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy as email_policy
from email.utils import make_msgid

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import Select, select, update
from sqlalchemy.exc import OperationalError

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

log = logging.getLogger("waterportal.mail")

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass
class SendCounts:
    """What one round of sending did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: SendCounts) -> None:
        """Add another round's counts to these."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed tries: base * 2**(n-1), capped."""
    config = current_app.config
    base = int(config.get("MAIL_RETRY_BASE_SECONDS", 30))
    cap = int(config.get("MAIL_RETRY_MAX_SECONDS", 3600))
    return min(base * 2 ** max(attempts - 1, 0), cap)


class _TimeoutConnection(Connection):
    """Flask-Mail's connection, but with ``MAIL_TIMEOUT``: a hung server must not hang us."""

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = float(current_app.config.get("MAIL_TIMEOUT", 10))
        factory = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = factory(state.server, state.port, timeout=timeout)
        try:
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except Exception:
            host.close()
            raise
        return host

    def close(self) -> None:
        """QUIT if possible; a dead connection is simply dropped."""
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()
            self.host = None


class _ConnectionFailed(Exception):
    """The SMTP server could not be reached: stop this round, keep the rest pending."""


def build_message(row: OutboxMessage) -> Message:
    """The Flask-Mail message of an outbox row: plain text, UTF-8, the city's sender."""
    # row.sender is an RFC 2047 header (formataddr); hand Flask-Mail the decoded parts so
    # it encodes the name once, and Message-ID on the city's own domain.
    address = email_policy.default.header_factory("From", row.sender).addresses[0]
    message = Message(
        subject=row.subject,
        sender=(address.display_name, address.addr_spec),
        recipients=[row.to_address],
        body=row.body,
        charset="utf-8",
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    message.msgId = make_msgid(domain=address.domain or None)
    return message


def _is_permanent(exc: Exception) -> bool:
    # A message we cannot even build (no recipient, bad header) will never get better.
    if isinstance(exc, (BadHeaderError, ValueError, IndexError, AssertionError)):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return exc.smtp_code >= 500
    return False


_SESSION_ERRORS = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError,
                   smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)


def _is_connection_error(exc: Exception) -> bool:
    # SMTPException subclasses OSError: a refused recipient is not a dead connection.
    if isinstance(exc, (_ConnectionFailed, *_SESSION_ERRORS)):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def due_query(now: dt.datetime, ids: list[int] | None = None) -> Select:
    """The oldest due pending row of any city (among ``ids``), locked, skipping locked rows."""
    query = (
        select(OutboxMessage.id, OutboxMessage.tenant_id, OutboxMessage.attempts)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(all_tenants=True)  # a vendor job: the sender serves every city
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    return query


class _Round:
    """One pass over the outbox: a tenant map, a clock and a lazily opened SMTP connection."""

    def __init__(self, now: dt.datetime | None):
        self.clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow_naive
        self.tenants = {t.id: t for t in get_registry().all()}
        self.connection: _TimeoutConnection | None = None
        self.counts = SendCounts()

    def tenant(self, tenant_id: int) -> TenantContext:
        if tenant_id not in self.tenants:
            get_registry().refresh(force=True)
            self.tenants = {t.id: t for t in get_registry().all()}
        return self.tenants[tenant_id]

    def claim(self, ids: list[int] | None) -> tuple[int, TenantContext] | None:
        """Claim the oldest due pending row (optionally among ``ids``); None when none is left."""
        now = self.clock()
        query = due_query(now, ids)
        for _ in range(5):
            candidate = db.session.execute(query).first()
            if candidate is None:
                db.session.rollback()
                return None
            tenant = self.tenant(candidate.tenant_id)
            lease = dt.timedelta(seconds=int(current_app.config.get("MAIL_CLAIM_SECONDS", 300)))
            with tenant_context(tenant):
                try:
                    claimed = db.session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == candidate.id, OutboxMessage.status == PENDING,
                               OutboxMessage.attempts == candidate.attempts)
                        .values(attempts=candidate.attempts + 1, next_attempt_at=now + lease)
                        .execution_options(synchronize_session=False)
                    ).rowcount
                    db.session.commit()
                except OperationalError:
                    # SQLite: another sender wrote first (busy snapshot); it owns the row.
                    db.session.rollback()
                    claimed = 0
            if claimed == 1:
                return candidate.id, tenant
            # Lost the race: the row is no longer due for us, so the next query moves on.
        return None

    def send(self, message_id: int, tenant: TenantContext) -> None:
        """Send one claimed row and record the outcome under its tenant."""
        with tenant_context(tenant):
            row = db.session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id)).scalar_one()
            try:
                if self.connection is None:
                    connection = _TimeoutConnection(current_app.extensions["mail"])
                    try:
                        connection.__enter__()
                    except Exception as exc:
                        raise _ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
                    self.connection = connection
                self.connection.send(build_message(row))
            except Exception as exc:
                dead = _is_connection_error(exc)
                if dead:
                    self.close()
                self._failed(row, tenant, exc)
                db.session.commit()
                if dead:
                    raise _ConnectionFailed(row.last_error) from exc
                return
            row.status = SENT
            row.sent_at = self.clock()
            row.last_error = None
            db.session.commit()
            self.counts.sent += 1
            log.info("mail %s (%s) sent for %s", row.id, row.kind, tenant.slug)

    def _failed(self, row: OutboxMessage, tenant: TenantContext, exc: Exception) -> None:
        error = exc.args[0] if isinstance(exc, _ConnectionFailed) else f"{type(exc).__name__}: {exc}"
        row.last_error = error[:500]
        max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8))
        if row.attempts >= max_attempts or _is_permanent(exc):
            row.status = FAILED
            self.counts.failed += 1
            log.error("mail %s (%s) for %s failed after %d attempt(s), giving up: %s",
                      row.id, row.kind, tenant.slug, row.attempts, row.last_error)
            return
        delay = backoff_seconds(row.attempts)
        row.next_attempt_at = self.clock() + dt.timedelta(seconds=delay)
        self.counts.retrying += 1
        log.warning("mail %s (%s) for %s not sent (attempt %d), retrying in %ds: %s",
                    row.id, row.kind, tenant.slug, row.attempts, delay, row.last_error)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _run(ids: list[int] | None, limit: int, now: dt.datetime | None) -> SendCounts:
    # Whatever the caller left uncommitted is not ours to commit (and was never sendable).
    db.session.rollback()
    round_ = _Round(now)
    try:
        for _ in range(limit):
            claimed = round_.claim(ids)
            if claimed is None:
                break
            try:
                round_.send(*claimed)
            except _ConnectionFailed:
                break  # the server is down: the other rows keep their turn for the next round
    finally:
        round_.close()
    return round_.counts


def send_due(limit: int = 100, now: dt.datetime | None = None) -> SendCounts:
    """Send up to ``limit`` due pending mails of every city; commits per message.

    Rolls back anything uncommitted in the session first: only committed mail is sent.
    """
    return _run(None, limit, now)


def send_ids(ids: Iterable[int], now: dt.datetime | None = None) -> SendCounts:
    """Send these outbox rows now if they are still pending and due (used right after commit)."""
    wanted = sorted(set(ids))
    if not wanted:
        return SendCounts()
    return _run(wanted, len(wanted), now)
