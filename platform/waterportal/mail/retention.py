"""Retention of the outbox: mails (their bodies carry codes, names, notice texts, receipts)
are kept ``MAIL_RETENTION_DAYS`` after they were queued, then deleted once they are final.

What goes, in every city at once, set-wise:

* **mails** in a final state (``sent``, ``failed``, ``expired``) queued before the cutoff;
  never ``pending`` or ``sending`` ones, whatever their age. Nothing reads a final mail again
  to decide whether to send (notices, bills and alerts mark their own rows: ``mailed_at``,
  ``bill_notified_at``); its Message-ID only mattered while it could be sent again. The one
  reader is a job's counter (queued / sent / failed), so the sent and failed mails of a job
  are added to the job's ``purged_sent`` / ``purged_failed`` in the same transaction;
* **mail jobs** finished (``done`` or ``failed``) before the cutoff whose mails are all gone or
  going, unless something still shows them: a job of a kind registered with
  :func:`~waterportal.mail.jobs.keep_jobs_while` (a notice's, an area alert's counter in the
  console) stays while its notice or alert exists.

Each batch is one ``DELETE ... WHERE id IN (SELECT id ... LIMIT n) RETURNING`` (plus one
UPDATE of the batch's jobs' counts) and its own transaction, so the statements grow with the
mails / :data:`BATCH`, never per mail or per city, and no long lock is held. On PostgreSQL the
statements run as the cross-city role, which may DELETE from these two tables only
(tenancy/row_security.py ``CROSS_DELETE``). Every city touched gets an audit entry
``mail.purge``. Run by ``flask outbox purge`` and by the outbox worker (:func:`purge_if_due`):
at most :data:`ROUND_BATCHES` batches a round, between its sends, until a round finds nothing
more to delete, then again a day later, so a first purge of a large outbox (a new worker, the
retention just switched on) never holds the sending up.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections import Counter
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, case, delete, exists, func, not_, select, update
from sqlalchemy.orm import aliased

from waterportal.audit import services as audit
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import ALL_CITIES, DONE, FAILED, KEEP_WHILE
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

log = logging.getLogger("waterportal.mail")

FINAL = ("sent", "failed", "expired")
BATCH = 1000  # rows per DELETE (and per transaction)
PURGE_EVERY = dt.timedelta(days=1)  # the worker's rhythm
ROUND_BATCHES = 5  # the worker deletes at most this many batches per round, then sends again


def retention_days() -> int:
    """The platform's ``MAIL_RETENTION_DAYS`` (checked when the app starts: app.load_config)."""
    return int(current_app.config["MAIL_RETENTION_DAYS"])


def _mails(mail, cutoff: dt.datetime):
    """The conditions on outbox rows (``mail``: the model or an alias) that the retention deletes."""
    return (mail.status.in_(FINAL), mail.created_at < cutoff)


def _jobs(job, cutoff: dt.datetime):
    """The conditions on jobs (``job``: the model or an alias) that the retention deletes: true
    before their mails are deleted as well as after, so a dry run counts what a run deletes."""
    mail = aliased(OutboxMessage)
    kept_mail = exists().where(mail.job_id == job.id, not_(and_(*_mails(mail, cutoff))))
    conditions = [job.status.in_((DONE, FAILED)), func.coalesce(job.done_at, job.created_at) < cutoff, ~kept_mail]
    for kind, model in KEEP_WHILE.items():
        shown = exists().where(model.tenant_id == job.tenant_id, model.id == job.ref_id)
        conditions.append(not_(and_(job.kind == kind, shown)))
    return conditions


@dataclass(frozen=True)
class PurgeResult:
    """What :func:`purge` deleted (or, in a dry run, would delete), per city slug."""

    cutoff: dt.datetime
    mails: dict[str, int]
    jobs: dict[str, int]
    dry_run: bool = False
    finished: bool = True  # False: stopped at its ``batches``, more is left

    @property
    def cities(self) -> list[str]:
        """The cities touched, by slug."""
        return sorted(set(self.mails) | set(self.jobs))


def _slugs(by_id: Counter | dict) -> dict[str, int]:
    tenants = {t.id: t.slug for t in get_registry().all()}
    return {tenants.get(tenant_id, str(tenant_id)): n for tenant_id, n in by_id.items() if n}


def _delete_mails(cutoff: dt.datetime, batch: int, batches: int | None) -> tuple[Counter, bool]:
    """Delete the final mails queued before ``cutoff`` in batches (at most ``batches``), folding
    each batch's counts into its jobs; return the mails deleted per city id, and whether none
    is left."""
    by_city: Counter = Counter()
    inner = aliased(OutboxMessage)
    for _ in _rounds(batches):
        ids = select(inner.id).where(*_mails(inner, cutoff)).order_by(inner.id).limit(batch)
        gone = db.session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
            .returning(OutboxMessage.tenant_id, OutboxMessage.job_id, OutboxMessage.status)
            .execution_options(**ALL_CITIES, synchronize_session=False)
        ).all()
        sent: Counter = Counter()
        failed: Counter = Counter()
        for tenant_id, job_id, status in gone:
            by_city[tenant_id] += 1
            if job_id is not None:
                (sent if status == "sent" else failed)[job_id] += 1
        values = {column.key: column + case(dict(counts), value=MailJob.id, else_=0)
                  for column, counts in ((MailJob.purged_sent, sent), (MailJob.purged_failed, failed)) if counts}
        if values:
            db.session.execute(
                update(MailJob).where(MailJob.id.in_(sorted(set(sent) | set(failed)))).values(**values)
                .execution_options(**ALL_CITIES, synchronize_session=False))
        db.session.commit()
        if len(gone) < batch:
            return by_city, True
    return by_city, False


def _rounds(batches: int | None):
    """0, 1, 2, ... up to ``batches`` (no end without one)."""
    return range(batches) if batches is not None else itertools.count()


def _delete_jobs(cutoff: dt.datetime, batch: int, batches: int | None) -> tuple[Counter, bool]:
    """Delete the finished jobs nothing needs any more in batches (at most ``batches``); return
    how many per city id, and whether none is left."""
    by_city: Counter = Counter()
    inner = aliased(MailJob)
    for _ in _rounds(batches):
        ids = select(inner.id).where(*_jobs(inner, cutoff)).order_by(inner.id).limit(batch)
        gone = db.session.execute(
            delete(MailJob).where(MailJob.id.in_(ids)).returning(MailJob.tenant_id)
            .execution_options(**ALL_CITIES, synchronize_session=False)
        ).scalars().all()
        db.session.commit()
        by_city.update(gone)
        if len(gone) < batch:
            return by_city, True
    return by_city, False


def purge(actor: str, *, days: int | None = None, dry_run: bool = False, now: dt.datetime | None = None,
          batch: int = BATCH, batches: int | None = None) -> PurgeResult:
    """Delete the mails and jobs past the retention (``days``, default ``MAIL_RETENTION_DAYS``)
    in every city; commits per batch, then audits per city touched (``actor``). ``batches``
    bounds the batches of each table (the result's ``finished`` says whether all went).
    ``dry_run`` only counts (two statements) and changes nothing."""
    db.session.rollback()  # whatever the caller left uncommitted is not ours
    cutoff = (now or utcnow_naive()) - dt.timedelta(days=days if days is not None else retention_days())
    if dry_run:
        mail, job = aliased(OutboxMessage), aliased(MailJob)
        mails = dict(db.session.execute(select(mail.tenant_id, func.count()).where(*_mails(mail, cutoff))
                                        .group_by(mail.tenant_id).execution_options(**ALL_CITIES)).all())
        jobs = dict(db.session.execute(select(job.tenant_id, func.count()).where(*_jobs(job, cutoff))
                                       .group_by(job.tenant_id).execution_options(**ALL_CITIES)).all())
        db.session.rollback()
        return PurgeResult(cutoff, _slugs(mails), _slugs(jobs), dry_run=True)
    (mails, mails_done), (jobs, jobs_done) = _delete_mails(cutoff, batch, batches), (Counter(), False)
    if mails_done:  # a job goes after its mails
        jobs, jobs_done = _delete_jobs(cutoff, batch, batches)
    tenants = {t.id: t for t in get_registry().all()}
    for tenant_id in sorted(set(mails) | set(jobs)):
        if tenant_id in tenants:
            with tenant_context(tenants[tenant_id]):
                audit.record(actor, "mail.purge", target=tenants[tenant_id].slug, mails=mails.get(tenant_id, 0),
                             jobs=jobs.get(tenant_id, 0), before=cutoff.isoformat(sep=" "))
                db.session.flush()
    db.session.commit()
    result = PurgeResult(cutoff, _slugs(mails), _slugs(jobs), finished=mails_done and jobs_done)
    if result.cities:
        log.info("mail retention: %d mail(s) and %d job(s) queued before %s UTC deleted in %d city(ies)",
                 sum(mails.values()), sum(jobs.values()), f"{cutoff:%Y-%m-%d %H:%M}", len(result.cities))
    return result


def purge_if_due(now: dt.datetime | None = None) -> PurgeResult | None:
    """The worker's call each round: purge at most :data:`ROUND_BATCHES` batches when this
    process has not finished a purge in the last day (a dictionary lookup otherwise). A purge
    that stops at its bound goes on next round; a finished one, or one that fails (the
    moment is noted first, so it is not retried every round), waits a day."""
    now = now or utcnow_naive()
    state = current_app.extensions.setdefault("waterportal.mail.retention", {"last": None})
    last = state["last"]
    if last is not None and now - last < PURGE_EVERY:
        return None
    state["last"] = now
    result = purge("system:mail", now=now, batch=BATCH, batches=ROUND_BATCHES)
    if not result.finished:
        state["last"] = None  # more to delete: next round, after this round's sends
    return result
