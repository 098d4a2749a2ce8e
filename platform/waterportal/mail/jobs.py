"""Mail fan-out out of requests and imports: record a job, let the outbox worker expand it.

A staff POST (a notice with mail) or a bills import records one :class:`MailJob` row in its
own transaction (one INSERT, whatever the number of members) and returns. The outbox worker
(``flask outbox send --loop``) expands pending jobs before it sends: per job, in one
transaction and under the job's city, it

1. locks the job (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: another worker takes the next
   job instead of waiting) and moves it ``pending -> done`` with a conditional UPDATE, so a
   job expanded twice, or by two workers, queues its mails once;
2. calls the expander registered for the job's kind (the notices and billing packages
   register theirs: this package sits below them), which writes the outbox rows set-wise
   (:func:`insert_outbox_rows`: one ``INSERT ... SELECT``, the body rendered once);
3. commits: the job's state and its mails commit together, or neither does.

A failing expansion rolls back; the job stays ``pending`` with ``attempts`` counted and
``next_attempt_at`` backed off (``MAIL_JOB_RETRY_BASE_SECONDS * 2**(n-1)``, at most
``MAIL_RETRY_MAX_SECONDS``), and after ``MAIL_JOB_MAX_ATTEMPTS`` failures it is ``failed``
(logged at error level, shown by ``flask outbox status``; ``flask outbox retry --failed``,
:func:`retry_jobs`, makes it pending again). Outbox rows carry ``job_id``, so
:func:`job_counters` can tell the console how many mails a job queued and sent (with the
``purged_*`` counts of those the retention deleted, mail.retention).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formataddr

from flask import current_app
from sqlalchemy import DateTime, Integer, Select, String, case, cast, func, insert, literal, or_, select, update

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

log = logging.getLogger("waterportal.mail")

PENDING, DONE, FAILED = "pending", "done", "failed"
# kind -> expander(tenant, job, now) -> mails queued; registered by the feature packages.
Expander = Callable[[TenantContext, MailJob, dt.datetime], int]
EXPANDERS: dict[str, Expander] = {}
# kind -> the model whose row (same city, id = the job's ref_id) still shows the job's counter
# (a notice, an area alert): the retention keeps such a job while that row exists.
KEEP_WHILE: dict[str, type] = {}


def keep_jobs_while(kind: str, model: type) -> None:
    """Jobs of ``kind`` stay (after their mails are purged) while their ``model`` row exists."""
    KEEP_WHILE[kind] = model


def expander(kind: str) -> Callable[[Expander], Expander]:
    """Register the function that expands jobs of ``kind`` (a decorator)."""
    def register(function: Expander) -> Expander:
        EXPANDERS[kind] = function
        return function
    return register


def record_job(tenant: TenantContext, kind: str, ref_id: int = 0, recipients_upto: int = 0) -> MailJob:
    """Record a fan-out job of ``tenant`` (flushed, not committed: the caller commits)."""
    job = MailJob(tenant_id=tenant.id, kind=kind, ref_id=ref_id, recipients_upto=recipients_upto,
                  created_at=utcnow_naive())
    db.session.add(job)
    db.session.flush()
    return job


def sender_of(tenant: TenantContext) -> tuple[str, str]:
    """The city's From header (``名寄市上下水道ポータル <noreply@...>``) and the domain its
    Message-IDs are made in (``[mail] sender_name`` / ``sender_address``)."""
    mail_settings = tenant.settings["mail"]
    address = mail_settings["sender_address"]
    return formataddr((mail_settings["sender_name"], address)), address.rpartition("@")[2] or "localhost"


class JobMails:
    """The outbox rows of a job whose mails differ per recipient (rendered by the expander):
    ``add(to, subject, body, key)`` collects one, ``flush()`` writes the batch with one INSERT
    and returns how many. The Message-ID is ``<job{id}.{key}@city domain>`` (key: unique in the job)."""

    def __init__(self, tenant: TenantContext, job: MailJob, kind: str, now: dt.datetime):
        sender, self.domain = sender_of(tenant)
        self.common = {"tenant_id": tenant.id, "sender": sender,
                       "kind": kind, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                       "job_id": job.id}
        self.job_id = job.id
        self.rows: list[dict] = []

    def add(self, to_address: str, subject: str, body: str, key: str) -> None:
        self.rows.append({**self.common, "to_address": to_address, "subject": subject, "body": body,
                          "message_id": f"<job{self.job_id}.{key}@{self.domain}>"})

    def flush(self) -> int:
        written = len(self.rows)
        if self.rows:
            db.session.execute(insert(OutboxMessage.__table__), self.rows)
        self.rows = []
        return written


def insert_outbox_rows(tenant: TenantContext, job: MailJob, template: str, subject: str, body: str,
                       recipients: Select, now: dt.datetime) -> int:
    """Queue the same mail to every recipient of ``recipients`` with one ``INSERT ... SELECT``.

    ``recipients`` selects two columns, a key unique within the job (the member id) and the
    address; it must filter on the city itself (an INSERT's SELECT gets no tenant filter).
    The Message-ID is built in SQL from the job, a random part and the key: unique and fixed
    when the row is queued, as :func:`~waterportal.mail.services.queue_mail` does per row.
    """
    sender, domain = sender_of(tenant)
    source = recipients.subquery()
    key, address = source.c
    message_id = literal(f"<job{job.id}.{secrets.token_hex(6)}.", String) + cast(key, String) + literal(f"@{domain}>", String)
    stamp = literal(now, DateTime())
    values = select(
        literal(tenant.id, Integer), address, literal(sender, String),
        literal(subject, String), literal(body, String), literal(template, String), literal("pending", String),
        message_id, literal(0, Integer), stamp, stamp, literal(job.id, Integer),
    )
    table = OutboxMessage.__table__
    columns = ["tenant_id", "to_address", "sender", "subject", "body", "kind", "status", "message_id", "attempts",
               "next_attempt_at", "created_at", "job_id"]
    db.session.execute(insert(table).from_select([table.c[name] for name in columns], values))
    # Counted, not rowcount: psycopg reports -1 for INSERT ... SELECT here.
    return db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.tenant_id == tenant.id, OutboxMessage.job_id == job.id))


def _tenant(tenant_id: int) -> TenantContext:
    registry = get_registry()
    found = next((t for t in registry.all() if t.id == tenant_id), None)
    if found is None:  # a city created since this worker's last refresh
        registry.refresh(force=True)
        found = next(t for t in registry.all() if t.id == tenant_id)
    return found


def _claim_next(now: dt.datetime, skip: Iterable[int] = ()) -> tuple[MailJob, TenantContext] | None:
    """Lock and mark ``done`` the oldest pending job of any city; None when none is left.

    The caller expands it in this same transaction and commits (or rolls back: pending again)."""
    for _ in range(5):
        row = db.session.execute(
            select(MailJob.id, MailJob.tenant_id)
            .where(MailJob.status == PENDING, MailJob.id.not_in(list(skip)),
                   or_(MailJob.next_attempt_at.is_(None), MailJob.next_attempt_at <= now))
            .order_by(MailJob.id).limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(all_tenants=True)  # a vendor job: the worker serves every city
        ).first()
        if row is None:
            return None
        tenant = _tenant(row.tenant_id)
        with tenant_context(tenant):
            won = db.session.execute(
                update(MailJob).where(MailJob.id == row.id, MailJob.status == PENDING)
                .values(status=DONE, done_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
            if won:
                job = db.session.execute(select(MailJob).where(MailJob.id == row.id)).scalar_one()
                return job, tenant
        db.session.rollback()  # SQLite: another worker took it meanwhile
    return None


class JobFailed(Exception):
    """An expansion failed (rolled back); ``job_id`` says which, ``attempts`` how many times
    it has failed, ``gave_up`` whether that was the last try (the job is ``failed``) and
    ``retry_at`` when it is tried again otherwise."""

    def __init__(self, job_id: int, attempts: int = 0, gave_up: bool = False, retry_at: dt.datetime | None = None):
        super().__init__(f"mail job {job_id} failed")
        self.job_id, self.attempts, self.gave_up, self.retry_at = job_id, attempts, gave_up, retry_at


def job_backoff_seconds(attempts: int) -> int:
    """Delay before a job's next expansion after ``attempts`` failed ones: base * 2**(n-1), capped."""
    config = current_app.config
    base = int(config.get("MAIL_JOB_RETRY_BASE_SECONDS", 60))
    cap = int(config.get("MAIL_RETRY_MAX_SECONDS", 3600))
    return min(base * 2 ** max(attempts - 1, 0), cap)


def _record_failure(job_id: int, tenant: TenantContext, now: dt.datetime, exc: Exception) -> JobFailed:
    """Count a failed expansion on the job (own transaction): back off, or ``failed`` after the last try."""
    limit = int(current_app.config.get("MAIL_JOB_MAX_ATTEMPTS", 6))
    error = f"{type(exc).__name__}: {exc}"[:500]
    with tenant_context(tenant):
        attempts = (db.session.scalar(select(MailJob.attempts).where(MailJob.id == job_id)) or 0) + 1
        gave_up = attempts >= limit
        retry_at = None if gave_up else now + dt.timedelta(seconds=job_backoff_seconds(attempts))
        db.session.execute(
            update(MailJob).where(MailJob.id == job_id, MailJob.status == PENDING)
            .values(attempts=attempts, last_error=error, next_attempt_at=retry_at,
                    status=FAILED if gave_up else PENDING)
            .execution_options(synchronize_session=False))
        db.session.commit()
    return JobFailed(job_id, attempts, gave_up, retry_at)


def expand_one(now: dt.datetime | None = None, skip: Iterable[int] = ()) -> tuple[int, int] | None:
    """Expand the oldest pending job not in ``skip`` (commits); return its id and the mails
    queued, or None. A failing expansion rolls back and raises :class:`JobFailed`."""
    now = now or utcnow_naive()
    db.session.rollback()  # whatever the caller left uncommitted is not ours
    claimed = _claim_next(now, skip)
    if claimed is None:
        db.session.rollback()
        return None
    job, tenant = claimed
    job_id, kind = job.id, job.kind  # the row expires at commit, outside its city
    try:
        function = EXPANDERS.get(kind)
        if function is None:
            raise LookupError(f"mail job {job_id}: no expander for kind {kind!r} is loaded")
        with tenant_context(tenant):
            queued = function(tenant, job, now)
            db.session.execute(update(MailJob).where(MailJob.id == job_id).values(queued=queued)
                               .execution_options(synchronize_session=False))
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise _record_failure(job_id, tenant, now, exc) from exc
    log.info("mail job %s (%s) for %s: %d mail(s) queued", job_id, kind, tenant.slug, queued)
    return job_id, queued


def expand_due(limit: int = 20, now: dt.datetime | None = None) -> int:
    """Expand up to ``limit`` due pending jobs of every city; return the mails queued.

    A job that fails is logged and backs off (``failed`` after its last try); the others go
    on, so one broken job does not hold up the rest."""
    total = 0
    failed: set[int] = set()
    for _ in range(limit):
        try:
            done = expand_one(now, failed)
        except JobFailed as exc:
            if exc.gave_up:
                log.error("mail job %s: expansion failed %d times, giving up (failed; flask outbox retry "
                          "--failed tries it again)", exc.job_id, exc.attempts, exc_info=exc.__cause__)
            else:
                log.warning("mail job %s: expansion failed (attempt %d), trying again at %s UTC",
                            exc.job_id, exc.attempts, f"{exc.retry_at:%Y-%m-%d %H:%M:%S}", exc_info=exc.__cause__)
            failed.add(exc.job_id)
            continue
        except Exception:
            log.exception("mail job expansion failed (claiming)")
            db.session.rollback()
            break
        if done is None:
            break
        total += done[1]
    return total


@dataclass(frozen=True)
class JobCounter:
    """One job's mails: ``waiting`` (pending or being sent), ``sent``, ``failed`` (incl. expired)."""

    job_id: int
    status: str  # the job's own: pending (not expanded yet), done, or failed (its expansion gave up)
    queued: int
    waiting: int = 0
    sent: int = 0
    failed: int = 0
    created_at: dt.datetime | None = None


_COUNTER_COLUMNS = (MailJob.id, MailJob.status, MailJob.queued, MailJob.created_at, MailJob.purged_sent,
                    MailJob.purged_failed)


def _counters(jobs: list[tuple]) -> dict[int, JobCounter]:
    """job id -> its counter, for (:data:`_COUNTER_COLUMNS`) of jobs of the current city: one
    statement counting their mails by status, plus those the retention deleted."""
    by_job: dict[int, dict[str, int]] = {}
    if jobs:
        for job_id, status, count in db.session.execute(
            select(OutboxMessage.job_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.job_id.in_([job[0] for job in jobs]))
            .group_by(OutboxMessage.job_id, OutboxMessage.status)
        ):
            by_job.setdefault(job_id, {})[status] = count
    result = {}
    for job_id, status, queued, created_at, purged_sent, purged_failed in jobs:
        counts = by_job.get(job_id, {})
        result[job_id] = JobCounter(
            job_id=job_id, status=status, queued=queued,
            waiting=counts.get("pending", 0) + counts.get("sending", 0),
            sent=counts.get("sent", 0) + purged_sent,
            failed=counts.get("failed", 0) + counts.get("expired", 0) + purged_failed,
            created_at=created_at,
        )
    return result


def job_counters(kind: str, ref_ids: Iterable[int]) -> dict[int, JobCounter]:
    """The newest job of ``kind`` for each of ``ref_ids`` in the current city -> its counter.

    Two statements whatever the number of jobs (a console list)."""
    ref_ids = sorted(set(ref_ids))
    if not ref_ids:
        return {}
    newest = {row[-1]: tuple(row[:-1]) for row in db.session.execute(
        select(*_COUNTER_COLUMNS, MailJob.ref_id).where(MailJob.kind == kind, MailJob.ref_id.in_(ref_ids))
        .order_by(MailJob.id)
    )}
    counters = _counters(list(newest.values()))
    return {ref: counters[job[0]] for ref, job in newest.items()}


def recent_jobs(kind: str, limit: int) -> list[JobCounter]:
    """The newest ``limit`` jobs of ``kind`` in the current city that have mail, are still
    waiting for the worker or failed, newest first, with their counters: two statements."""
    jobs = db.session.execute(
        select(*_COUNTER_COLUMNS)
        .where(MailJob.kind == kind, or_(MailJob.status.in_((PENDING, FAILED)), MailJob.queued > 0))
        .order_by(MailJob.id.desc()).limit(limit)
    ).all()
    counters = _counters([tuple(job) for job in jobs])
    return [counters[job.id] for job in jobs]


# Mails of a job that are not delivered yet (waiting, or in a sender's hands), delivered, given up.
WAITING, GIVEN_UP = ("pending", "sending"), ("failed", "expired")
ALL_CITIES = {"all_tenants": True}  # the operator's and the vendor's reports read every city


@dataclass(frozen=True)
class CityJobs:
    """One city's fan-out jobs: ``pending`` (the worker has not expanded them yet),
    ``delivering`` (expanded, some mails still waiting), ``done`` (every mail sent or given up),
    ``failed`` (the expansion gave up after its last try).

    There is no "expanding" state to show: a worker claims, expands and commits a job in one
    transaction, so until that commit the job reads as pending (and afterwards as expanded)."""

    tenant_id: int
    pending: int
    delivering: int
    done: int
    oldest_pending_age_seconds: int | None
    failed: int = 0


def _waiting_job_ids() -> Select:
    """The jobs some of whose mails are not delivered yet."""
    return select(OutboxMessage.job_id).where(OutboxMessage.status.in_(WAITING), OutboxMessage.job_id.is_not(None))


def jobs_by_city(now: dt.datetime | None = None) -> dict[int, CityJobs]:
    """tenant id -> its jobs by state, for every city that has a job: one statement for all cities."""
    now = now or utcnow_naive()
    waiting = _waiting_job_ids().distinct().subquery()
    pending = MailJob.status == PENDING
    expanded_waiting = (MailJob.status == DONE) & waiting.c.job_id.is_not(None)
    rows = db.session.execute(
        select(MailJob.tenant_id,
               func.sum(case((pending, 1), else_=0)),
               func.sum(case((expanded_waiting, 1), else_=0)),
               func.sum(case((MailJob.status == FAILED, 1), else_=0)),
               func.count(MailJob.id),
               func.min(case((pending, MailJob.created_at))))
        .outerjoin(waiting, waiting.c.job_id == MailJob.id)
        .group_by(MailJob.tenant_id)
        .execution_options(**ALL_CITIES)
    )
    result = {}
    for tenant_id, n_pending, n_delivering, n_failed, total, oldest in rows:
        n_pending, n_delivering, n_failed = int(n_pending or 0), int(n_delivering or 0), int(n_failed or 0)
        result[tenant_id] = CityJobs(
            tenant_id=tenant_id, pending=n_pending, delivering=n_delivering, failed=n_failed,
            done=total - n_pending - n_delivering - n_failed,
            oldest_pending_age_seconds=max(0, int((now - oldest).total_seconds())) if oldest is not None else None,
        )
    return result


@dataclass(frozen=True)
class JobProgress:
    """One job of any city and its mails (``failed`` counts expired ones too)."""

    job_id: int
    tenant_id: int
    kind: str
    ref_id: int
    state: str  # pending, delivering, done or failed (see CityJobs)
    queued: int
    waiting: int
    sent: int
    failed: int
    created_at: dt.datetime
    attempts: int = 0  # failed expansions
    last_error: str | None = None


def jobs_in_progress(since: dt.datetime, limit: int = 200) -> list[JobProgress]:
    """Every job not finished yet (pending, or with mails waiting), every failed job and every
    job recorded since ``since``, of every city, newest first, with its mails by state (those the
    retention deleted included): one statement."""

    def mails(statuses):
        return func.coalesce(func.sum(case((OutboxMessage.status.in_(statuses), 1), else_=0)), 0)

    columns = (MailJob.id, MailJob.tenant_id, MailJob.kind, MailJob.ref_id, MailJob.status, MailJob.queued,
               MailJob.created_at, MailJob.purged_sent, MailJob.purged_failed, MailJob.attempts, MailJob.last_error)
    rows = db.session.execute(
        select(*columns, mails(WAITING), mails(("sent",)), mails(GIVEN_UP))
        .outerjoin(OutboxMessage, OutboxMessage.job_id == MailJob.id)
        .where(or_(MailJob.status.in_((PENDING, FAILED)), MailJob.created_at >= since,
                   MailJob.id.in_(_waiting_job_ids())))
        .group_by(*columns)
        .order_by(MailJob.id.desc()).limit(limit)
        .execution_options(**ALL_CITIES)
    )
    return [
        JobProgress(job_id=job_id, tenant_id=tenant_id, kind=kind, ref_id=ref_id,
                    state=status if status in (PENDING, FAILED) else "delivering" if waiting else DONE,
                    queued=queued, waiting=int(waiting), sent=int(sent) + purged_sent,
                    failed=int(failed) + purged_failed, created_at=created_at, attempts=attempts, last_error=last_error)
        for (job_id, tenant_id, kind, ref_id, status, queued, created_at, purged_sent, purged_failed, attempts,
             last_error, waiting, sent, failed) in rows
    ]


@dataclass(frozen=True)
class JobRetry:
    """What :func:`retry_jobs` did, per city id: jobs backing off made due now, failed ones revived."""

    waiting: dict[int, int]
    revived: dict[int, int]


def retry_jobs(now: dt.datetime, *, failed: bool = False, tenant_id: int | None = None) -> JobRetry:
    """Make pending jobs that back off after failed expansions due ``now``, and with ``failed``
    give failed jobs a fresh set of tries, in one city or all: a count and an UPDATE per group,
    whatever the number of cities. Flushes; the caller audits and commits (mail.services.retry_mail)."""
    groups = {"waiting": (MailJob.status == PENDING, MailJob.next_attempt_at > now)}
    if failed:
        groups["revived"] = (MailJob.status == FAILED,)
    scope = (MailJob.tenant_id == tenant_id,) if tenant_id is not None else ()
    found: dict[str, dict[int, int]] = {"waiting": {}, "revived": {}}
    for name, where in groups.items():
        found[name] = dict(db.session.execute(
            select(MailJob.tenant_id, func.count()).where(*where, *scope).group_by(MailJob.tenant_id)
            .execution_options(**ALL_CITIES)).all())
        if found[name]:
            values = {"next_attempt_at": now, "status": PENDING}
            if name == "revived":
                values["attempts"] = 0
            db.session.execute(update(MailJob).where(*where, *scope).values(**values)
                               .execution_options(**ALL_CITIES, synchronize_session=False))
    return JobRetry(waiting=found["waiting"], revived=found["revived"])
