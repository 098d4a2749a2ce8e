"""「漏水の可能性のお知らせ」: one mail per flagged bill (billing.leaks) to each linked member who wants it.

The bills import records a ``leak`` mail job when its after-step flagged bills
(:func:`record_leak_mail`: one row, whatever the number of bills), with the bill-mail job's
watermark and links: the alerts of the bills it inserted, and the members linked before it
ran. The outbox worker expands it (:func:`_expand_leak_mail`): it claims the alerts set-wise
(``UPDATE bill_alerts SET mailed_at ... WHERE mailed_at IS NULL ... RETURNING id``), so two
jobs covering the same alerts, or a job expanded twice, cannot mail a bill twice; then it
renders each mail in the member's language (the body names the member, the contract and the
figures) and writes them in batches.

Who: members linked to the contract, with ``notify_leak`` on (the default; the notification
settings page switches it off), whose data is visible already (as for bill mail: a member
still waiting for the city's check must not learn usage by mail). An alert with nobody to
mail stays unclaimed.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, or_, select, update

from waterportal.accounts.models import Member
from waterportal.billing.cycles import contract_cycle
from waterportal.billing.leaks import LEAK, BillAlert
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.time import local_now
from waterportal.extensions import db
from waterportal.mail.jobs import JobMails, expander, record_job
from waterportal.mail.models import MailJob
from waterportal.mail.services import mail_renderer
from waterportal.tenancy.context import TenantContext, tenant_context

log = logging.getLogger("waterportal.billing")
CHUNK = 1000  # claimed alerts per batch of mails
TEMPLATE = "leak_notice"


def record_leak_mail(tenant: TenantContext, after_bill_id: int, recipients_upto: int) -> int:
    """Record the job that mails the leak alerts of the bills above ``after_bill_id`` to the
    members of links up to ``recipients_upto``; return its id. Flushes only."""
    return record_job(tenant, LEAK, after_bill_id, recipients_upto=recipients_upto).id


def record_leak_mail_for_links(tenant: TenantContext) -> int:
    """A job for the city's alerts nobody was mailed yet, to the links there are now (the demo
    member, who registered "earlier" than the bills' import). Flushes only."""
    with tenant_context(tenant):
        links = db.session.scalar(select(func.max(MemberContract.id)).where(MemberContract.tenant_id == tenant.id)) or 0
    return record_leak_mail(tenant, 0, links)


def _wants_mail(tenant: TenantContext, job: MailJob, today: dt.date):
    """Members linked (before the job) who want leak mail and may see data."""
    return (Member.tenant_id == tenant.id, Member.notify_leak.is_(True), MemberContract.id <= job.recipients_upto,
            or_(Member.data_visible_from.is_(None), Member.data_visible_from <= today))


@expander(LEAK)
def _expand_leak_mail(tenant: TenantContext, job: MailJob, now: dt.datetime) -> int:
    """The worker's half: claim the job's unmailed alerts that have a recipient and queue their mails."""
    today = local_now(tenant.timezone).date()
    # Uncorrelated: evaluated once for the city, not once per alert.
    with_recipient = (select(MemberContract.contract_id).join(Member, Member.id == MemberContract.member_id)
                      .where(MemberContract.tenant_id == tenant.id, *_wants_mail(tenant, job, today)))
    claimed = sorted(db.session.scalars(
        update(BillAlert)
        .where(BillAlert.tenant_id == tenant.id, BillAlert.kind == LEAK, BillAlert.mailed_at.is_(None),
               BillAlert.bill_id > job.ref_id, BillAlert.contract_id.in_(with_recipient))
        .values(mailed_at=now).returning(BillAlert.id)
        .execution_options(synchronize_session=False)
    ))
    if not claimed:
        return 0
    outbox = JobMails(tenant, job, TEMPLATE, now)
    leak_form = "leak_reduction" in tenant.settings["procedures"]["enabled"]
    renderers: dict[str, object] = {}  # language -> renderer: the template looked up once per language
    queued = 0
    for start in range(0, len(claimed), CHUNK):
        ids = claimed[start:start + CHUNK]
        rows = db.session.execute(
            select(BillAlert, Bill, Contract, Member.id, Member.email, Member.nickname, Member.language,
                   MemberContract.label)
            .join(Bill, Bill.id == BillAlert.bill_id)
            .join(Contract, Contract.id == BillAlert.contract_id)
            .join(MemberContract, MemberContract.contract_id == BillAlert.contract_id)
            .join(Member, Member.id == MemberContract.member_id)
            .where(BillAlert.id.in_(ids), *_wants_mail(tenant, job, today))
            .order_by(BillAlert.id, Member.id)
        ).all()
        for alert, bill, contract, member_id, email, nickname, language, label in rows:
            render = renderers.get(language)
            if render is None:
                render = renderers[language] = mail_renderer(tenant, TEMPLATE, language)
            # Months and dates through the template's filters: in the member's language, 和暦
            # in a Japanese mail of a city that writes it.
            subject, body = render(nickname=nickname, label=label or "", alert=alert, bill=bill, contract=contract,
                                   bimonthly=contract_cycle(tenant.settings, contract) == "bimonthly",
                                   leak_form=leak_form)
            outbox.add(email, subject, body, f"{alert.id}.{member_id}")
        queued += outbox.flush()
        db.session.expunge_all()  # constant memory over a large job
    log.info("leak mail: %d mails for %d flagged bills (tenant=%s)", queued, len(claimed), tenant.slug)
    return queued
