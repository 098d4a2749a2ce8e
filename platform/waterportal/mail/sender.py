"""Deliver the outbox through Flask-Mail: at most one sender per mail, a Message-ID that
never changes, a recorded outcome that survives a busy database, and backoff that ends as
soon as the SMTP server answers again.

One message at a time:

1. **claim** (own transaction): pick the oldest due row of any city - ``pending`` and due,
   or ``sending`` whose lease ran out - with ``SELECT ... FOR UPDATE SKIP LOCKED``
   (PostgreSQL; SQLite has no row locks), then a conditional UPDATE sets ``sending``, bumps
   ``attempts`` and sets ``next_attempt_at`` to the lease end. Only the sender whose UPDATE
   matched owns the row, so two senders (web thread and worker, two workers) never send it
   side by side, and no row lock is held while talking to the SMTP server. A code or link
   mail past ``expires_at`` is dropped here (``expired``, audited) instead.
2. **send** over one SMTP connection per round, with the row's own Message-ID (fixed when it
   was queued, so committed before any send).
3. **record** (own transaction): ``sent``; or back to ``pending`` with backoff; or
   ``failed``. The UPDATE is conditional on our claim and is retried while the database is
   busy or away, for up to :data:`RECORD_SHARE` of the lease: nobody else may take the row
   over meanwhile, so a mail sent but not yet recorded is not sent again.

What remains: a sender that dies (or cannot reach the database for the whole lease)
between the SMTP server's "250 OK" and the record leaves the row in ``sending``; after its
lease another sender sends it again, with the same Message-ID, and logs a warning. Most
mail systems keep one copy of mails with the same Message-ID; a reader's client may still
show both.
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy as email_policy
from email.utils import make_msgid

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import Select, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from waterportal.audit import services as audit
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

log = logging.getLogger("waterportal.mail")

PENDING, SENDING, SENT, FAILED, EXPIRED = "pending", "sending", "sent", "failed", "expired"
# The share of the lease during which a sender keeps trying to record what it did.
RECORD_SHARE = 0.8
_DB_ERRORS = (OperationalError, InterfaceError)  # busy/locked SQLite, a lost connection


@dataclass
class SendCounts:
    """What one round of sending did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0  # code mails dropped: their code died before they could go
    unrecorded: int = 0  # sent, but the database refused the record for the whole lease

    def add(self, other: SendCounts) -> None:
        """Add another round's counts to these."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.expired += other.expired
        self.unrecorded += other.unrecorded

    def __str__(self) -> str:
        text = f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"
        if self.expired:
            text += f", expired {self.expired}"
        if self.unrecorded:
            text += f", unrecorded {self.unrecorded}"
        return text


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
    # The row's own id (queued with it), so a re-send is recognisably the same mail.
    message.msgId = row.message_id or make_msgid(domain=address.domain or "localhost")
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
    """The oldest due row of any city (among ``ids``): pending and due, or sending with its
    lease run out; locked, skipping locked rows."""
    query = (
        select(OutboxMessage.id, OutboxMessage.tenant_id, OutboxMessage.attempts, OutboxMessage.status,
               OutboxMessage.message_id, OutboxMessage.sender, OutboxMessage.expires_at, OutboxMessage.kind)
        .where(OutboxMessage.status.in_((PENDING, SENDING)), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(all_tenants=True)  # a vendor job: the sender serves every city
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    return query


@dataclass(frozen=True)
class Claim:
    """A row this sender owns until ``deadline`` (monotonic seconds) for its record."""

    id: int
    tenant: TenantContext
    attempts: int  # after the claim: the record is conditional on it
    deadline: float


def _waiting_rows(now: dt.datetime):
    # Mails backing off after a failed try (a new mail has attempts == 0).
    return (OutboxMessage.status == PENDING, OutboxMessage.attempts > 0, OutboxMessage.next_attempt_at > now)


def wake_waiting(now: dt.datetime) -> int:
    """Make every mail that is backing off due ``now`` (every city); commits. Returns how many.

    Called when the SMTP server answers again: the backoff was for the outage, not for the
    mails, which should not wait up to an hour more once it is over.
    """
    query = select(OutboxMessage.id).where(*_waiting_rows(now)).limit(1).execution_options(all_tenants=True)
    if db.session.execute(query).first() is None:
        db.session.rollback()
        return 0
    woken = db.session.execute(
        update(OutboxMessage).where(*_waiting_rows(now)).values(next_attempt_at=now)
        .execution_options(all_tenants=True, synchronize_session=False)  # a vendor job: every city
    ).rowcount
    db.session.commit()
    log.info("SMTP server answers again: %d waiting mail(s) are due now", woken)
    return woken


class _Round:
    """One pass over the outbox: a tenant map, a clock and a lazily opened SMTP connection."""

    def __init__(self, now: dt.datetime | None):
        self.clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow_naive
        self.tenants = {t.id: t for t in get_registry().all()}
        self.connection: _TimeoutConnection | None = None
        self.counts = SendCounts()
        self.woke = False
        config = current_app.config
        self.lease = dt.timedelta(seconds=int(config.get("MAIL_CLAIM_SECONDS", 300)))

    def tenant(self, tenant_id: int) -> TenantContext:
        if tenant_id not in self.tenants:
            get_registry().refresh(force=True)
            self.tenants = {t.id: t for t in get_registry().all()}
        return self.tenants[tenant_id]

    def _take(self, candidate, now: dt.datetime, **values) -> bool:
        """The conditional UPDATE of a claim: True when this sender won the row (committed)."""
        try:
            won = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == candidate.id, OutboxMessage.status == candidate.status,
                       OutboxMessage.attempts == candidate.attempts, OutboxMessage.next_attempt_at <= now)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if won and values.get("status") == EXPIRED:
                audit.record("system:mail", "mail.expired", target=f"mail:{candidate.id}", kind=candidate.kind,
                             expired_at=candidate.expires_at.isoformat(sep=" "))
            db.session.commit()
            return won
        except _DB_ERRORS:
            # SQLite: another sender wrote first (busy snapshot) and owns the row; or the
            # database is busy: the row stays due for the next round.
            db.session.rollback()
            return False

    def claim(self, ids: list[int] | None) -> Claim | None:
        """Claim the oldest due row (optionally among ``ids``); None when none is left.

        Code mails past their code's lifetime met on the way are dropped (``expired``)."""
        lost = 0
        while lost < 5:
            now = self.clock()
            candidate = db.session.execute(due_query(now, ids)).first()
            if candidate is None:
                db.session.rollback()
                return None
            tenant = self.tenant(candidate.tenant_id)
            with tenant_context(tenant):
                if candidate.expires_at is not None and candidate.expires_at <= now:
                    if self._take(candidate, now, status=EXPIRED, last_error="expired: its code or link died "
                                  f"at {candidate.expires_at:%Y-%m-%d %H:%M:%S} UTC before it could be sent"):
                        self.counts.expired += 1
                        log.warning("mail %s (%s) for %s dropped: its code or link expired before delivery",
                                    candidate.id, candidate.kind, tenant.slug)
                    else:
                        lost += 1
                    continue
                message_id = candidate.message_id or make_msgid(
                    domain=email_policy.default.header_factory("From", candidate.sender).addresses[0].domain
                    or "localhost")
                won = self._take(candidate, now, status=SENDING, attempts=candidate.attempts + 1,
                                 next_attempt_at=now + self.lease, message_id=message_id)
            if won:
                if candidate.status == SENDING:
                    log.warning("mail %s (%s) for %s was still 'sending' when its lease ended: sending it again "
                                "with the same Message-ID %s (the earlier try may have been delivered)",
                                candidate.id, candidate.kind, tenant.slug, message_id)
                return Claim(candidate.id, tenant, candidate.attempts + 1,
                             time.monotonic() + self.lease.total_seconds() * RECORD_SHARE)
            lost += 1  # lost the race: the row is no longer due for us, so the next query moves on
        return None

    def record(self, claim: Claim, **values) -> bool:
        """Write the outcome of ``claim`` (conditional on still owning it), retrying while
        the database is busy or away until the claim's deadline. True when written."""
        delay = 0.05
        while True:
            try:
                with tenant_context(claim.tenant):
                    done = db.session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == claim.id, OutboxMessage.status == SENDING,
                               OutboxMessage.attempts == claim.attempts)
                        .values(**values)
                        .execution_options(synchronize_session=False)
                    ).rowcount == 1
                    db.session.commit()
            except _DB_ERRORS as exc:
                try:
                    db.session.rollback()
                except _DB_ERRORS:
                    pass
                if time.monotonic() + delay > claim.deadline:
                    log.error("mail %s for %s: could not record %s (%s); it stays 'sending' until its lease ends",
                              claim.id, claim.tenant.slug, values.get("status"), type(exc).__name__)
                    return False
                log.warning("mail %s for %s: recording %s failed (%s), retrying in %.2fs",
                            claim.id, claim.tenant.slug, values.get("status"), type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not done:
                log.warning("mail %s for %s: another sender took it over; %s not recorded",
                            claim.id, claim.tenant.slug, values.get("status"))
            return done

    def send(self, claim: Claim) -> None:
        """Send one claimed row and record the outcome under its tenant."""
        tenant = claim.tenant
        with tenant_context(tenant):
            row = db.session.execute(select(OutboxMessage).where(OutboxMessage.id == claim.id)).scalar_one()
            kind = row.kind
            try:
                message = build_message(row)
                db.session.rollback()  # no transaction stays open while the SMTP server talks
                if self.connection is None:
                    connection = _TimeoutConnection(current_app.extensions["mail"])
                    try:
                        connection.__enter__()
                    except Exception as exc:
                        raise _ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
                    self.connection = connection
                self.connection.send(message)
            except Exception as exc:
                db.session.rollback()
                dead = _is_connection_error(exc)
                if dead:
                    self.close()
                error = self._failed(claim, kind, exc)
                if dead:
                    raise _ConnectionFailed(error) from exc
                return
        # The SMTP server has the mail: from here on, only recording is left.
        self.counts.sent += 1
        if self.record(claim, status=SENT, sent_at=self.clock(), last_error=None):
            log.info("mail %s (%s) sent for %s", claim.id, kind, tenant.slug)
        else:
            self.counts.unrecorded += 1
        if not self.woke:
            self.woke = True
            self._wake()

    def _wake(self) -> None:
        try:
            wake_waiting(self.clock())
        except _DB_ERRORS:
            db.session.rollback()  # the next success tries again

    def _failed(self, claim: Claim, kind: str, exc: Exception) -> str:
        error = (exc.args[0] if isinstance(exc, _ConnectionFailed) else f"{type(exc).__name__}: {exc}")[:500]
        max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8))
        slug = claim.tenant.slug
        if claim.attempts >= max_attempts or _is_permanent(exc):
            self.counts.failed += 1
            log.error("mail %s (%s) for %s failed after %d attempt(s), giving up: %s",
                      claim.id, kind, slug, claim.attempts, error)
            self.record(claim, status=FAILED, last_error=error)
            return error
        delay = backoff_seconds(claim.attempts)
        self.counts.retrying += 1
        log.warning("mail %s (%s) for %s not sent (attempt %d), retrying in %ds: %s",
                    claim.id, kind, slug, claim.attempts, delay, error)
        self.record(claim, status=PENDING, last_error=error,
                    next_attempt_at=self.clock() + dt.timedelta(seconds=delay))
        return error

    def probe(self) -> bool:
        """Nothing was due: if mails are backing off, ask the SMTP server whether it answers
        (connect, greeting, EHLO); when it does, make them due. True when it answered."""
        now = self.clock()
        query = select(OutboxMessage.id).where(*_waiting_rows(now)).limit(1).execution_options(all_tenants=True)
        waiting = db.session.execute(query).first() is not None
        db.session.rollback()
        if not waiting:
            return False
        connection = _TimeoutConnection(current_app.extensions["mail"])
        try:
            connection.__enter__()
        except Exception as exc:
            log.info("SMTP server still not answering: %s: %s", type(exc).__name__, exc)
            return False
        self.connection = connection  # reused for the mails it wakes
        self.woke = True
        self._wake()
        return True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _probe_due() -> bool:
    # At most one probe per MAIL_PROBE_SECONDS and process: a dead server is not hammered.
    state = current_app.extensions.setdefault("waterportal.mail.probe", {"last": None})
    interval = float(current_app.config.get("MAIL_PROBE_SECONDS", 60))
    last = state["last"]
    if last is not None and time.monotonic() - last < interval:
        return False
    state["last"] = time.monotonic()
    return True


def _run(ids: list[int] | None, limit: int, now: dt.datetime | None, probe: bool = False) -> SendCounts:
    # Whatever the caller left uncommitted is not ours to commit (and was never sendable).
    db.session.rollback()
    round_ = _Round(now)
    try:
        claimed_any = False
        for _ in range(limit):
            claim = round_.claim(ids)
            if claim is None:
                if probe and not claimed_any and _probe_due() and round_.probe():
                    probe = False
                    continue  # the woken mails are due now: send them in this round
                break
            claimed_any = True
            try:
                round_.send(claim)
            except _ConnectionFailed:
                break  # the server is down: the other rows keep their turn for the next round
    finally:
        round_.close()
    return round_.counts


def send_due(limit: int = 100, now: dt.datetime | None = None) -> SendCounts:
    """Send up to ``limit`` due mails of every city; commits per message.

    Rolls back anything uncommitted in the session first: only committed mail is sent.
    When nothing is due but mails are backing off, probes the SMTP server (at most every
    ``MAIL_PROBE_SECONDS``) and sends them at once if it answers.
    """
    return _run(None, limit, now, probe=True)


def send_ids(ids: Iterable[int], now: dt.datetime | None = None) -> SendCounts:
    """Send these outbox rows now if they are still pending and due (used right after commit)."""
    wanted = sorted(set(ids))
    if not wanted:
        return SendCounts()
    return _run(wanted, len(wanted), now)
