"""Outbox rows: one mail each, delivered after commit and retried with backoff."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped


class OutboxMessage(TenantScoped, db.Model):
    """A plain-text mail: ``pending`` (waiting), ``sending`` (claimed by a sender until
    ``next_attempt_at``, its lease), ``sent``, ``failed`` (given up) or ``expired`` (a code
    or link mail not delivered because its code died first)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    sender: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # RFC 5322 Message-ID, fixed when the row is queued (committed before any send): a re-send
    # of the same row carries the same id, so the receiving side can see it is one mail.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Code and link mails: the moment their code or link dies; not delivered after it.
    expires_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    sent_at: Mapped[dt.datetime | None]
    # The fan-out job (MailJob) that queued this mail, for its queued/sent counter.
    job_id: Mapped[int | None]


# The sender's query: pending rows that are due, oldest first (platform-wide).
Index("ix_mail_outbox_due", OutboxMessage.status, OutboxMessage.next_attempt_at)
# The console's counter of one job's mails by status.
Index("ix_mail_outbox_job", OutboxMessage.job_id, OutboxMessage.status)
# The daily purge of mails past the retention (mail/retention.py): a range on the oldest rows.
Index("ix_mail_outbox_created", OutboxMessage.created_at)


class MailJob(TenantScoped, db.Model):
    """A fan-out recorded by a request or an import and expanded by the outbox worker
    (mail.jobs): ``pending`` until a worker turned it into outbox rows (``done``), or
    ``failed`` when its expansion failed ``MAIL_JOB_MAX_ATTEMPTS`` times (retried with
    backoff until then; ``flask outbox retry --failed`` makes it pending again).

    ``kind`` names the expander (``notice``: ``ref_id`` is the notice; ``bills``: ``ref_id``
    is the city's highest bill id before the import, so the new bills are those above it).
    ``recipients_upto`` is the highest recipient key (member id, member-contract link id) when
    the job was recorded: who joined later was not there when the news came, and gets no mail.
    """

    __tablename__ = "mail_jobs"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(BIG_ID, default=0)  # a bill id for ``bills``
    recipients_upto: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    queued: Mapped[int] = mapped_column(default=0)  # mails written by the expansion
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    done_at: Mapped[dt.datetime | None]
    # Failed expansions so far, and when a pending job may be tried again (None: at once).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The job's mails the retention (mail.retention) deleted, by their final state, so the
    # counters of a notice or an import still add up after its mails are gone.
    purged_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    purged_failed: Mapped[int] = mapped_column(default=0, server_default="0")  # failed or expired


# The worker's query: pending jobs, oldest first (platform-wide); the console's: a notice's job.
Index("ix_mail_jobs_status", MailJob.status, MailJob.id)
Index("ix_mail_jobs_ref", MailJob.tenant_id, MailJob.kind, MailJob.ref_id)
