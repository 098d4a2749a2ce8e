"""「今回の請求金額のお知らせ」: one mail per new bill to each member who asked for it.

The bills import calls :func:`notify_new_bills` with the keys of the bills it *inserted*
(an updated or unchanged bill is never news), in its own transaction: the outbox rows
commit or roll back with the bills. Each bill is claimed with
``UPDATE ... SET bill_notified_at WHERE bill_notified_at IS NULL`` before its mails are
queued, so even two imports racing on the same file cannot mail a bill twice.

Which bills: only news. Per contract, only the new bill of the contract's *latest* billing
month is mailed; a new bill older than another bill of the same contract is history. So
when a city first loads 24 months of history for contracts that already have members,
each member gets one mail (the current bill), not 24; and a late-arriving older month
(a correction file, a backfill) mails nobody. Bills skipped this way keep
``bill_notified_at`` empty: they were never mailed.

Who gets mail: members linked to the bill's contract with ``notify_bills`` on, and whose
data is visible already (``data_visible_from`` passed): a member still waiting for the
city's check must not learn amounts by mail that the portal does not show yet.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, or_, select, update

from waterportal.accounts.models import Member
from waterportal.billing.models import Bill
from waterportal.billing.queries import month_label
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import TenantContext, tenant_context

log = logging.getLogger("waterportal.billing")
CHUNK = 500  # ids per IN (...) list


def _recipients(today) -> dict[int, list[tuple[str, str, str]]]:
    """contract id -> [(email, nickname, label)] of members who want bill mail and may see data."""
    rows = db.session.execute(
        select(MemberContract.contract_id, Member.email, Member.nickname, MemberContract.label)
        .join(Member, Member.id == MemberContract.member_id)
        .where(Member.notify_bills.is_(True),
               or_(Member.data_visible_from.is_(None), Member.data_visible_from <= today))
        .order_by(MemberContract.contract_id, Member.id)
    ).all()
    by_contract: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for contract_id, email, nickname, label in rows:
        by_contract[contract_id].append((email, nickname, label or ""))
    return by_contract


def _latest_months(contract_ids: list[int]) -> dict[int, str]:
    """contract id -> its latest billing month in the database (the bills just written included)."""
    return dict(db.session.execute(
        select(Bill.contract_id, func.max(Bill.billing_month))
        .where(Bill.contract_id.in_(contract_ids)).group_by(Bill.contract_id)
    ).all())


def notify_new_bills(tenant: TenantContext, keys: Iterable[tuple[int, str]]) -> int:
    """Queue the bill-ready mail for new bills ``(contract_id, billing_month)``; return mails queued.

    Only a new bill of its contract's latest billing month is mailed (see the module doc).
    Flushes only: the caller (the import) commits.
    """
    keys = set(keys)
    if not keys:
        return 0
    with tenant_context(tenant):
        recipients = _recipients(local_now(tenant.timezone).date())
        wanted = sorted({contract_id for contract_id, _month in keys} & recipients.keys())
        latest: dict[int, str] = {}
        for start in range(0, len(wanted), CHUNK):
            latest.update(_latest_months(wanted[start:start + CHUNK]))
        keys = {(contract_id, month) for contract_id, month in keys if latest.get(contract_id) == month}
        wanted = sorted({contract_id for contract_id, _month in keys})
        months = sorted({month for _contract_id, month in keys})
        bills: list[tuple[Bill, Contract]] = []
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start:start + CHUNK]
            bills += [
                (bill, contract) for bill, contract in db.session.execute(
                    select(Bill, Contract).join(Contract, Contract.id == Bill.contract_id)
                    .where(Bill.contract_id.in_(part), Bill.billing_month.in_(months),
                           Bill.bill_notified_at.is_(None))
                )
                if (bill.contract_id, bill.billing_month) in keys
            ]
        if not bills:
            return 0
        now = utcnow_naive()
        claimed: set[int] = set()
        ids = sorted(bill.id for bill, _contract in bills)
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            claimed.update(db.session.scalars(
                update(Bill).where(Bill.id.in_(part), Bill.bill_notified_at.is_(None))
                .values(bill_notified_at=now).returning(Bill.id)
                .execution_options(synchronize_session=False)
            ))
        sent = 0
        for bill, contract in sorted(bills, key=lambda pair: (pair[0].billing_month, pair[0].id)):
            if bill.id not in claimed:
                continue
            for email, nickname, label in recipients[bill.contract_id]:
                queue_mail(tenant, email, "bill_ready", nickname=nickname, label=label, bill=bill,
                           contract=contract, month=month_label(bill.billing_month))
                sent += 1
        log.info("bill mail: %d mails for %d new bills (tenant=%s)", sent, len(claimed), tenant.slug)
        return sent
