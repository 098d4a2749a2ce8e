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

A failing expansion rolls back and stays ``pending`` for the next round. Outbox rows carry
``job_id``, so :func:`job_counters` can tell the console how many mails a job queued and sent.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formataddr

from sqlalchemy import DateTime, Integer, Select, String, case, cast, func, insert, literal, or_, select, update

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

log = logging.getLogger("waterportal.mail")

PENDING, DONE = "pending", "done"
# kind -> expander(tenant, job, now) -> mails queued; registered by the feature packages.
Expander = Callable[[TenantContext, MailJob, dt.datetime], int]
EXPANDERS: dict[str, Expander] = {}


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


class JobMails:
    """The outbox rows of a job whose mails differ per recipient (rendered by the expander):
    ``add(to, subject, body, key)`` collects one, ``flush()`` writes the batch with one INSERT
    and returns how many. The Message-ID is ``<job{id}.{key}@city domain>`` (key: unique in the job)."""

    def __init__(self, tenant: TenantContext, job: MailJob, kind: str, now: dt.datetime):
        mail_settings = tenant.settings["mail"]
        sender_address = mail_settings["sender_address"]
        self.domain = sender_address.rpartition("@")[2] or "localhost"
        self.common = {"tenant_id": tenant.id, "sender": formataddr((mail_settings["sender_name"], sender_address)),
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
    mail_settings = tenant.settings["mail"]
    sender_address = mail_settings["sender_address"]
    domain = sender_address.rpartition("@")[2] or "localhost"
    source = recipients.subquery()
    key, address = source.c
    message_id = literal(f"<job{job.id}.{secrets.token_hex(6)}.", String) + cast(key, String) + literal(f"@{domain}>", String)
    stamp = literal(now, DateTime())
    values = select(
        literal(tenant.id, Integer), address, literal(formataddr((mail_settings["sender_name"], sender_address)), String),
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
            select(MailJob.id, MailJob.tenant_id).where(MailJob.status == PENDING, MailJob.id.not_in(list(skip)))
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
    """An expansion failed (rolled back: the job is pending again); ``job_id`` says which."""

    def __init__(self, job_id: int):
        super().__init__(f"mail job {job_id} failed")
        self.job_id = job_id


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
        raise JobFailed(job_id) from exc
    log.info("mail job %s (%s) for %s: %d mail(s) queued", job_id, kind, tenant.slug, queued)
    return job_id, queued


def expand_due(limit: int = 20, now: dt.datetime | None = None) -> int:
    """Expand up to ``limit`` pending jobs of every city; return the mails queued.

    A job that fails is logged and left pending for the next round; the others go on, so one
    broken job does not hold up the rest."""
    total = 0
    failed: set[int] = set()
    for _ in range(limit):
        try:
            done = expand_one(now, failed)
        except JobFailed as exc:
            log.exception("mail job %s: expansion failed; it stays pending for the next round", exc.job_id)
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
    status: str  # the job's own: pending (not expanded yet) or done
    queued: int
    waiting: int = 0
    sent: int = 0
    failed: int = 0
    created_at: dt.datetime | None = None


def _counters(jobs: list[tuple[int, str, int, dt.datetime]]) -> dict[int, JobCounter]:
    """job id -> its counter, for (id, status, queued, created_at) of jobs of the current city:
    one statement counting their mails by status."""
    by_job: dict[int, dict[str, int]] = {}
    if jobs:
        for job_id, status, count in db.session.execute(
            select(OutboxMessage.job_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.job_id.in_([job[0] for job in jobs]))
            .group_by(OutboxMessage.job_id, OutboxMessage.status)
        ):
            by_job.setdefault(job_id, {})[status] = count
    result = {}
    for job_id, status, queued, created_at in jobs:
        counts = by_job.get(job_id, {})
        result[job_id] = JobCounter(
            job_id=job_id, status=status, queued=queued,
            waiting=counts.get("pending", 0) + counts.get("sending", 0),
            sent=counts.get("sent", 0), failed=counts.get("failed", 0) + counts.get("expired", 0),
            created_at=created_at,
        )
    return result


def job_counters(kind: str, ref_ids: Iterable[int]) -> dict[int, JobCounter]:
    """The newest job of ``kind`` for each of ``ref_ids`` in the current city -> its counter.

    Two statements whatever the number of jobs (a console list)."""
    ref_ids = sorted(set(ref_ids))
    if not ref_ids:
        return {}
    newest = {ref: (job_id, status, queued, created_at) for job_id, ref, status, queued, created_at in db.session.execute(
        select(MailJob.id, MailJob.ref_id, MailJob.status, MailJob.queued, MailJob.created_at)
        .where(MailJob.kind == kind, MailJob.ref_id.in_(ref_ids)).order_by(MailJob.id)
    )}
    counters = _counters(list(newest.values()))
    return {ref: counters[job[0]] for ref, job in newest.items()}


def recent_jobs(kind: str, limit: int) -> list[JobCounter]:
    """The newest ``limit`` jobs of ``kind`` in the current city that have mail or are still
    waiting for the worker, newest first, with their counters: two statements."""
    jobs = db.session.execute(
        select(MailJob.id, MailJob.status, MailJob.queued, MailJob.created_at)
        .where(MailJob.kind == kind, or_(MailJob.status == PENDING, MailJob.queued > 0))
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
    ``delivering`` (expanded, some mails still waiting), ``done`` (every mail sent or given up).

    There is no "expanding" state to show: a worker claims, expands and commits a job in one
    transaction, so until that commit the job reads as pending (and afterwards as expanded)."""

    tenant_id: int
    pending: int
    delivering: int
    done: int
    oldest_pending_age_seconds: int | None


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
               func.count(MailJob.id),
               func.min(case((pending, MailJob.created_at))))
        .outerjoin(waiting, waiting.c.job_id == MailJob.id)
        .group_by(MailJob.tenant_id)
        .execution_options(**ALL_CITIES)
    )
    result = {}
    for tenant_id, n_pending, n_delivering, total, oldest in rows:
        n_pending, n_delivering = int(n_pending or 0), int(n_delivering or 0)
        result[tenant_id] = CityJobs(
            tenant_id=tenant_id, pending=n_pending, delivering=n_delivering, done=total - n_pending - n_delivering,
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
    state: str  # pending, delivering or done (see CityJobs)
    queued: int
    waiting: int
    sent: int
    failed: int
    created_at: dt.datetime


def jobs_in_progress(since: dt.datetime, limit: int = 200) -> list[JobProgress]:
    """Every job not finished yet (pending, or with mails waiting) and every job recorded
    since ``since``, of every city, newest first, with its mails by state: one statement."""

    def mails(statuses):
        return func.coalesce(func.sum(case((OutboxMessage.status.in_(statuses), 1), else_=0)), 0)

    rows = db.session.execute(
        select(MailJob.id, MailJob.tenant_id, MailJob.kind, MailJob.ref_id, MailJob.status, MailJob.queued,
               MailJob.created_at, mails(WAITING), mails(("sent",)), mails(GIVEN_UP))
        .outerjoin(OutboxMessage, OutboxMessage.job_id == MailJob.id)
        .where(or_(MailJob.status == PENDING, MailJob.created_at >= since, MailJob.id.in_(_waiting_job_ids())))
        .group_by(MailJob.id, MailJob.tenant_id, MailJob.kind, MailJob.ref_id, MailJob.status, MailJob.queued,
                  MailJob.created_at)
        .order_by(MailJob.id.desc()).limit(limit)
        .execution_options(**ALL_CITIES)
    )
    return [
        JobProgress(job_id=job_id, tenant_id=tenant_id, kind=kind, ref_id=ref_id,
                    state=PENDING if status == PENDING else "delivering" if waiting else DONE,
                    queued=queued, waiting=int(waiting), sent=int(sent), failed=int(failed), created_at=created_at)
        for job_id, tenant_id, kind, ref_id, status, queued, created_at, waiting, sent, failed in rows
    ]
