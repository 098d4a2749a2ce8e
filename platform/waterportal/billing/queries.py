"""Read-only bill queries for the member pages: each fetches exactly what a page shows.

Every function is one statement whatever the length of the history (the member pages
are tested to issue a fixed number of statements). Tenant filtering is added by the
isolation hooks; authorisation (which member may see which contract) is expressed in
the queries themselves by joining the member's links.
"""
from __future__ import annotations

import functools

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased, undefer

from waterportal.billing.models import Bill, Document
from waterportal.contracts.models import Contract, MemberContract
from waterportal.contracts.selection import LinkedContract, as_links, links_statement
from waterportal.core.wareki import japanese_month
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant

# Bills in two years, by billing cycle (tenant.toml [billing] cycle).
PERIODS_PER_YEAR = {"monthly": 12, "bimonthly": 6}
HISTORY_YEARS = 2


def month_number(billing_month: str) -> int:
    """``"2024-09"`` -> a running month number (year * 12 + month - 1), for month arithmetic."""
    year, month = billing_month.split("-")
    return int(year) * 12 + int(month) - 1


def month_label(billing_month: str, style: str = "seireki") -> str:
    """``"2024-09"`` -> 「2024年09月」 (the manual's style), 「令和6年9月」 with ``style="wareki"``:
    for Japanese text drawn outside a page (PDFs, mail), given the city's ``[invoice] date_style``.
    Pages use the ``month_text`` filter (core/i18n.py), which also follows the language."""
    return japanese_month(billing_month, style)


def periods_per_year(cycle: str) -> int:
    """Bills per year for a billing cycle (12 monthly, 6 bimonthly)."""
    return PERIODS_PER_YEAR.get(cycle, 12)


def latest_billing_month(contract_id: int) -> str | None:
    """The billing month of the contract's latest bill (``"2026-10"``), or None: from when
    a 検針票 change applies (procedures/paperless_state.py, wired in app.py)."""
    return db.session.scalar(select(func.max(Bill.billing_month)).where(Bill.contract_id == contract_id))


DASHBOARD_PERIODS = 12  # the dashboard's small usage chart: the last 12 periods


@functools.cache
def _links_and_recent_bills() -> Select:
    # Each linked contract's bills from its 12th newest billing month on (a contract has one
    # bill a month: UNIQUE (tenant_id, contract_id, billing_month)). Both the month and the
    # join go down the (tenant_id, contract_id, billing_month) index; the earlier
    # ``Bill.id IN (<its newest 12 ids>)`` was tested for every bill of the city, so a
    # dashboard cost grew with the city's whole history (4 ms of 5 at 7,200 bills).
    newest = aliased(Bill)
    oldest_shown = (
        select(newest.billing_month).where(newest.contract_id == Contract.id)
        .order_by(newest.billing_month.desc()).offset(DASHBOARD_PERIODS - 1).limit(1)
        .correlate(Contract).scalar_subquery()
    )
    return (links_statement().add_columns(Bill)
            .outerjoin(Bill, and_(Bill.contract_id == Contract.id,
                                  Bill.billing_month >= func.coalesce(oldest_shown, "")))
            .order_by(Bill.billing_month.desc()))


def links_and_recent_bills(member_id: int) -> tuple[list[LinkedContract], dict[int, list[Bill]]]:
    """The member's links (as :func:`~waterportal.contracts.selection.linked_contracts`) and
    each linked contract's last :data:`DASHBOARD_PERIODS` bills, newest first, by contract id:
    one statement for the dashboard's amount and its small chart (issue 10: it was two)."""
    rows = db.session.execute(_links_and_recent_bills(), {"member_id": member_id}).all()
    links, seen, bills = [], set(), {}
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            links.extend(as_links([row]))
        if row[3] is not None:
            bills.setdefault(row[2].id, []).append(row[3])
    return links, bills


def recent_bills(contract_id: int, cycle: str) -> list[Bill]:
    """Up to two years of the contract's bills, newest first (one query).

    At most two years' worth of periods are fetched, and of those only the ones within
    24 months of the newest bill are kept (a gap in the history never stretches the window).
    """
    limit = periods_per_year(cycle) * HISTORY_YEARS
    bills = list(db.session.scalars(
        select(Bill).where(Bill.contract_id == contract_id).order_by(Bill.billing_month.desc()).limit(limit)
    ))
    if not bills:
        return []
    newest = month_number(bills[0].billing_month)
    return [bill for bill in bills if newest - month_number(bill.billing_month) < 12 * HISTORY_YEARS]


def member_bill(member_id: int, bill_id: int) -> tuple[Bill, Contract] | None:
    """A bill with its contract, only if ``member_id`` is linked to that contract (else None)."""
    row = db.session.execute(
        select(Bill, Contract)
        .join(Contract, Contract.id == Bill.contract_id)
        .join(MemberContract, MemberContract.contract_id == Contract.id)
        .where(Bill.tenant_id == current_tenant().id, Bill.id == bill_id, MemberContract.member_id == member_id)
    ).first()
    return (row[0], row[1]) if row else None


def member_document(member_id: int, document_id: int) -> Document | None:
    """A document with its file, only if ``member_id`` is linked to its contract (else None)."""
    return db.session.scalar(
        select(Document)
        .join(MemberContract, MemberContract.contract_id == Document.contract_id)
        .where(Document.tenant_id == current_tenant().id, Document.id == document_id, MemberContract.member_id == member_id)
        .options(undefer(Document.data))  # the download needs the file: same statement
    )
