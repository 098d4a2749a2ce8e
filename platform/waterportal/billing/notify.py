"""「今回の請求金額のお知らせ」: one mail per new bill to each member who asked for it.

The bills import records one mail job with :func:`record_bill_mail` before it writes (the
city's highest bill id is the job's watermark: the bills it inserts get higher ids, the bills
it updates keep theirs, and an updated or unchanged bill is never news). The job commits or
rolls back with the bills; the outbox worker expands it later (:func:`_expand_bill_mail`),
so the import transaction writes one row for its mail, whatever the number of bills. The
expansion claims the bills set-wise with
``UPDATE ... SET bill_notified_at WHERE bill_notified_at IS NULL ... RETURNING id`` before
queuing their mails, so even two jobs covering the same bills (two imports racing, a job
expanded twice) cannot mail a bill twice.

Which bills: only news. Per contract, only the new bill of the contract's *latest* billing
month is mailed; a new bill older than another bill of the same contract is history. So
when a city first loads 24 months of history for contracts that already have members,
each member gets one mail (the current bill), not 24; and a late-arriving older month
(a correction file, a backfill) mails nobody. Bills skipped this way keep
``bill_notified_at`` empty: they were never mailed.

Who gets mail: members linked to the bill's contract when the import ran (the job keeps the
highest link id), with ``notify_bills`` on, and whose data is visible already
(``data_visible_from`` passed) when the worker expands the job: a
member still waiting for the city's check must not learn amounts by mail that the portal
does not show yet. The body differs per member and bill (nickname, label, amounts), so the
worker renders each mail (the template looked up once) and writes them in batches. Each mail is
in its member's language (``members.language``, issue 13 §10): a batch's rows are grouped by
language and each group rendered with the language set once (:func:`mail.services.renderer_in`).
"""
from __future__ import annotations

import datetime as dt
import logging
from itertools import groupby

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from waterportal.accounts.models import Member
from waterportal.billing.cycles import contract_cycle
from waterportal.billing.models import Bill
from waterportal.billing.payments import transfer_failure
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.i18n import format_month
from waterportal.core.time import local_now
from waterportal.extensions import db
from waterportal.mail.jobs import JobCounter, JobMails, expander, recent_jobs, record_job
from waterportal.mail.models import MailJob
from waterportal.mail.services import renderer_in
from waterportal.tenancy.context import TenantContext, tenant_context

log = logging.getLogger("waterportal.billing")
CHUNK = 1000  # claimed bills per batch of mails


def record_bill_mail(tenant: TenantContext) -> int:
    """Record the bill-mail job of one bills import; return its id. Flushes only.

    Call it once per import, after validation and before the first bill is written: the
    job keeps the city's highest bill id, and the bills inserted after it are the news."""
    with tenant_context(tenant):
        watermark = db.session.scalar(select(func.max(Bill.id)).where(Bill.tenant_id == tenant.id)) or 0
        # Links made after the import were not there when the bill came: no mail for them.
        links = db.session.scalar(select(func.max(MemberContract.id)).where(MemberContract.tenant_id == tenant.id)) or 0
        return record_job(tenant, "bills", watermark, recipients_upto=links).id


def recent_bill_mail(limit: int = 5) -> list[JobCounter]:
    """The current city's newest bill-mail jobs that mail someone (or wait for the worker), with
    their mails queued / sent / waiting / failed: the console's counter beside the imports."""
    return recent_jobs("bills", limit)


def _wants_mail(tenant: TenantContext, job: MailJob, today: dt.date):
    """Members linked to the bill's contract (before the import) who want bill mail and may see data."""
    return (Member.tenant_id == tenant.id, Member.notify_bills.is_(True), MemberContract.id <= job.recipients_upto,
            or_(Member.data_visible_from.is_(None), Member.data_visible_from <= today))


@expander("bills")
def _expand_bill_mail(tenant: TenantContext, job: MailJob, now: dt.datetime) -> int:
    """The worker's half: claim the job's new bills that are news and queue their mails."""
    today = local_now(tenant.timezone).date()
    newer = aliased(Bill)
    latest = (select(func.max(newer.billing_month))
              .where(newer.tenant_id == Bill.tenant_id, newer.contract_id == Bill.contract_id).scalar_subquery())
    # Uncorrelated: evaluated once for the city, not once per bill.
    with_recipient = (select(MemberContract.contract_id).join(Member, Member.id == MemberContract.member_id)
                      .where(MemberContract.tenant_id == tenant.id, *_wants_mail(tenant, job, today)))
    claimed = sorted(db.session.scalars(
        update(Bill)
        .where(Bill.tenant_id == tenant.id, Bill.id > job.ref_id, Bill.bill_notified_at.is_(None),
               Bill.billing_month == latest, Bill.contract_id.in_(with_recipient))
        .values(bill_notified_at=now).returning(Bill.id)
        .execution_options(synchronize_session=False)
    ))
    if not claimed:
        return 0
    outbox = JobMails(tenant, job, "bill_ready", now)
    queued = 0
    for start in range(0, len(claimed), CHUNK):
        ids = claimed[start:start + CHUNK]
        # The links of these bills' contracts, named: without it SQLite (no statistics) starts
        # from member_contracts' (tenant_id, id) key for the recipients_upto range and probes
        # the bills for every link of the city, each chunk (78 mails/s at 5,000 members).
        these = aliased(Bill)
        of_these_bills = select(these.contract_id).where(these.tenant_id == tenant.id, these.id.in_(ids))
        rows = db.session.execute(
            select(Bill, Contract, Member.id, Member.email, Member.nickname, MemberContract.label, Member.language)
            .join(Contract, Contract.id == Bill.contract_id)
            .join(MemberContract, MemberContract.contract_id == Bill.contract_id)
            .join(Member, Member.id == MemberContract.member_id)
            .where(Bill.id.in_(ids), MemberContract.contract_id.in_(of_these_bills), *_wants_mail(tenant, job, today))
            .order_by(Bill.billing_month, Bill.id, Member.id)
        ).all()
        # One language switch per language of the batch, not per mail (sorted is stable: within
        # a language the rows keep their order).
        for language, group in groupby(sorted(rows, key=lambda row: row.language or ""), key=lambda row: row.language):
            with renderer_in(tenant, "bill_ready", language) as render:
                for bill, contract, member_id, email, nickname, label, _language in group:
                    # The month and dates in the member's language (和暦 in Nayoro's Japanese:
                    # the month_text and ymd filters follow the city's date_style).
                    subject, body = render(nickname=nickname, label=label or "", bill=bill, contract=contract,
                                           month=format_month(bill.billing_month),
                                           bimonthly=contract_cycle(tenant.settings, contract) == "bimonthly",
                                           transfer_failure=transfer_failure(bill))
                    outbox.add(email, subject, body, f"{bill.id}.{member_id}")
        queued += outbox.flush()
        db.session.expunge_all()  # constant memory over a large job
    log.info("bill mail: %d mails for %d new bills (tenant=%s)", queued, len(claimed), tenant.slug)
    return queued
