"""Bill PDFs issued once (電子帳簿保存法): each version drawn by the worker and kept unchanged.

The bills import records one ``bill_pdfs`` job in its transaction (:func:`record_bill_issue`);
the outbox worker claims it like a mail job (``FOR UPDATE SKIP LOCKED``, :mod:`waterportal.mail.jobs`)
and :func:`issue_pending` draws the PDF of every bill of the city whose current content has no
issued version yet: a new bill gets version 1; a bill the import corrected (its ``updated_at``
moved and its document would read differently) gets the next version, and the versions before
it get ``superseded_at`` (訂正前) but stay downloadable; a change the document does not show
(a payment) only marks the current version as matching the row. Each version keeps its bytes, SHA-256, size and 発行日; every download
serves those bytes. A job issues at most :data:`BATCH` documents and records the next job
when more are waiting, so one large import never holds a worker in one long transaction.
Jobs of this kind queue no mail (their ``queued`` count stays 0).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased, undefer

from waterportal.billing.bill_pdf import LEGACY_MONTH_STYLE, bill_pdf, bill_pdf_filename
from waterportal.billing.invoice import invoice_facts
from waterportal.billing.models import Bill, BillDocument
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.time import to_city_time
from waterportal.extensions import db
from waterportal.mail.jobs import expander, record_job
from waterportal.mail.models import MailJob
from waterportal.tenancy.context import TenantContext, current_tenant

log = logging.getLogger("waterportal.billing")
KIND = "bill_pdfs"
BATCH = 200


def record_bill_issue(tenant: TenantContext) -> int:
    """Record the job that issues the PDFs of new and corrected bills; flushes only."""
    return record_job(tenant, KIND).id


def _pending(tenant: TenantContext, limit: int):
    issued = aliased(BillDocument)
    current = exists().where(and_(issued.tenant_id == Bill.tenant_id, issued.bill_id == Bill.id,
                                  issued.source_updated_at == Bill.updated_at))
    return db.session.execute(
        select(Bill, Contract).join(Contract, Contract.id == Bill.contract_id)
        .where(Bill.tenant_id == tenant.id, ~current)
        .order_by(Bill.billing_month.desc(), Bill.id).limit(limit)  # the newest bills first: what members open
    ).all()


def issue_bill(tenant: TenantContext, bill: Bill, contract: Contract, now: dt.datetime) -> BillDocument:
    """Issue the next version of ``bill``'s PDF (the older ones become 訂正前)."""
    last = db.session.scalar(select(func.max(BillDocument.version)).where(BillDocument.bill_id == bill.id)) or 0
    if last:
        db.session.execute(update(BillDocument).where(BillDocument.bill_id == bill.id,
                                                      BillDocument.superseded_at.is_(None))
                           .values(superseded_at=now).execution_options(synchronize_session=False))
    issued_on = to_city_time(now, tenant.timezone).date()
    version = last + 1
    data = bill_pdf(tenant, contract, bill, issued_on=issued_on, version=version)
    facts = invoice_facts(tenant.settings, contract, bill)
    name = bill_pdf_filename(contract, bill)
    document = BillDocument(
        tenant_id=tenant.id, bill_id=bill.id, contract_id=contract.id, version=version,
        billing_month=bill.billing_month, total=bill.total, issuers=facts.issuer_text if facts else tenant.name,
        issued_on=issued_on, issued_at=now, source_updated_at=bill.updated_at, superseded_at=None,
        filename=name if version == 1 else name.replace(".pdf", f"_第{version}版.pdf"),
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
    )
    db.session.add(document)
    db.session.flush()
    return document


def _unchanged(tenant: TenantContext, bill: Bill, contract: Contract) -> BillDocument | None:
    """The bill's current version when the row changed but its document would not (the
    import recorded a payment, say): drawn again as that version was, the bytes are the same.

    The document is the invoice as issued, so a payment is no correction (訂正): it shows on
    the bill page and in the 収納済証明書, not as a new version of the invoice."""
    latest = db.session.scalar(select(BillDocument)
                               .where(BillDocument.tenant_id == tenant.id, BillDocument.bill_id == bill.id,
                                      BillDocument.superseded_at.is_(None))
                               .order_by(BillDocument.version.desc()).limit(1))
    if latest is None:
        return None
    # Today's layout, then the one before (bill_pdf.py) where it differs: a version issued
    # before Nayoro's months turned 和暦 still matches, so a payment never makes a 訂正 version.
    today = tenant.settings["invoice"].get("date_style", "seireki")
    for month_style in dict.fromkeys((today, LEGACY_MONTH_STYLE)):
        again = bill_pdf(tenant, contract, bill, issued_on=latest.issued_on, version=latest.version,
                         month_style=month_style)
        if hashlib.sha256(again).hexdigest() == latest.sha256:
            return latest
    return None


def issue_pending(tenant: TenantContext, now: dt.datetime, limit: int = BATCH) -> tuple[int, bool]:
    """Issue up to ``limit`` documents of ``tenant``; return (issued, more waiting).

    A bill whose row changed without changing its document keeps its version (now marked
    as matching the row) instead of a new one."""
    rows = _pending(tenant, limit + 1)
    issued = 0
    for bill, contract in rows[:limit]:
        current = _unchanged(tenant, bill, contract)
        if current is not None:
            current.source_updated_at = bill.updated_at
            continue
        issue_bill(tenant, bill, contract, now)
        issued += 1
    db.session.flush()
    return issued, len(rows) > limit


@expander(KIND)
def _expand_bill_issue(tenant: TenantContext, _job: MailJob, now: dt.datetime) -> int:
    issued, more = issue_pending(tenant, now)
    if more:
        record_bill_issue(tenant)
    log.info("bill pdfs of %s: %d issued%s", tenant.slug, issued, ", more waiting" if more else "")
    return 0


def current_document(bill_id: int) -> BillDocument | None:
    """The newest issued version of a bill of the current city (data not loaded)."""
    return db.session.scalar(select(BillDocument).where(BillDocument.tenant_id == current_tenant().id,
                                                        BillDocument.bill_id == bill_id)
                             .order_by(BillDocument.version.desc()).limit(1))


def bill_versions(bill_id: int) -> list[BillDocument]:
    """Every issued version of a bill of the current city, newest first."""
    return list(db.session.scalars(select(BillDocument).where(BillDocument.tenant_id == current_tenant().id,
                                                              BillDocument.bill_id == bill_id)
                                   .order_by(BillDocument.version.desc())))


def member_bill_document(member_id: int, document_id: int | None = None, *,
                         bill_id: int | None = None) -> BillDocument | None:
    """An issued version (``document_id``), or the newest version of a bill (``bill_id``), of
    one of the member's contracts; None otherwise. One statement, the file included."""
    query = (select(BillDocument).options(undefer(BillDocument.data))
             .join(MemberContract, MemberContract.contract_id == BillDocument.contract_id)
             .where(BillDocument.tenant_id == current_tenant().id, MemberContract.member_id == member_id))
    if bill_id is not None:
        query = query.where(BillDocument.bill_id == bill_id).order_by(BillDocument.version.desc())
    else:
        query = query.where(BillDocument.id == document_id)
    return db.session.scalar(query.limit(1))


def search_documents(contract_ids: list[int], *, issued_from: dt.date | None = None, issued_to: dt.date | None = None,
                     amount_min: int | None = None, amount_max: int | None = None, issuer: str | None = None,
                     limit: int = 200, offset: int = 0) -> list[BillDocument]:
    """Issued bill documents of these contracts of the current city, by 発行日, amount and
    issuer (電子帳簿保存法's 検索要件), newest first; at most ``limit``, after skipping ``offset``."""
    query = select(BillDocument).where(BillDocument.tenant_id == current_tenant().id,
                                       BillDocument.contract_id.in_(contract_ids))
    if issued_from:
        query = query.where(BillDocument.issued_on >= issued_from)
    if issued_to:
        query = query.where(BillDocument.issued_on <= issued_to)
    if amount_min is not None:
        query = query.where(BillDocument.total >= amount_min)
    if amount_max is not None:
        query = query.where(BillDocument.total <= amount_max)
    if issuer:
        query = query.where(BillDocument.issuers.contains(issuer, autoescape=True))
    newest = (BillDocument.issued_on.desc(), BillDocument.billing_month.desc(), BillDocument.version.desc())
    return list(db.session.scalars(query.order_by(*newest).limit(limit).offset(offset)))
