"""A finished 使用開始 brings its new contract into the citizen's portal account by itself.

The billing system answers a 使用開始 with the new お客様番号 (``flask procedures
import-status``). The contract itself reaches the portal with the billing system's
contracts export (``flask import contracts``), and the citizen may have no account yet
(a new resident files 使用開始 without one). So the link is made whenever both are there:

- **the contract**: the city's contract with the request's お客様番号;
- **the citizen**: the member who filed the request (logged in), or else the member of
  the city whose email is the address the applicant verified with a code when filing
  (both addresses were proven by a code sent to them, so they are the same mailbox).

:func:`link_started_contracts` links every completed 使用開始 of a city for which both
exist now, set-wise (one query for the candidates, one for the links that exist), sets the
request's ``contract_id`` (which marks it done) and audits each link. It runs after every
import-status and from ``flask procedures link-contracts`` (cron, after the nightly
contracts import), which also picks up citizens who registered since. Requests completed
more than :data:`LOOKBACK_DAYS` ago are no longer looked at.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select

from waterportal.accounts.models import Member
from waterportal.audit import services as audit
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.procedures.models import STATUS_COMPLETED, ProcedureRequest
from waterportal.tenancy.context import TenantContext

START_KIND = "move_in"
LOOKBACK_DAYS = 365
ACTOR = "system:procedures"


def link_started_contracts(tenant: TenantContext, now: dt.datetime | None = None) -> int:
    """Link the new contract of every completed 使用開始 of ``tenant`` whose contract and
    citizen are in the portal; return how many links were made (flushed, not committed)."""
    now = now or utcnow_naive()
    member = Member.__table__.alias("by_email")
    rows = db.session.execute(
        select(ProcedureRequest, Contract.id, ProcedureRequest.member_id, member.c.id)
        .join(Contract, and_(Contract.tenant_id == ProcedureRequest.tenant_id,
                             Contract.customer_number == ProcedureRequest.customer_number))
        .outerjoin(member, and_(member.c.tenant_id == ProcedureRequest.tenant_id,
                                member.c.email == ProcedureRequest.applicant_email))
        .where(
            ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.kind == START_KIND,
            ProcedureRequest.status == STATUS_COMPLETED, ProcedureRequest.customer_number != "",
            ProcedureRequest.contract_id.is_(None),
            ProcedureRequest.updated_at >= now - dt.timedelta(days=LOOKBACK_DAYS),
            or_(ProcedureRequest.member_id.is_not(None), member.c.id.is_not(None)),
        )
        .order_by(ProcedureRequest.id)
    ).all()
    if not rows:
        return 0
    pairs = {(filer or by_email, contract_id) for _, contract_id, filer, by_email in rows}
    existing = {tuple(row) for row in db.session.execute(
        select(MemberContract.member_id, MemberContract.contract_id).where(
            MemberContract.tenant_id == tenant.id,
            MemberContract.contract_id.in_({contract_id for _, contract_id in pairs}),
        )
    )}
    linked = 0
    for request, contract_id, filer, by_email in rows:
        member_id = filer or by_email
        if (member_id, contract_id) not in existing:
            db.session.add(MemberContract(tenant_id=tenant.id, member_id=member_id, contract_id=contract_id))
            existing.add((member_id, contract_id))
            linked += 1
            audit.record(ACTOR, "procedure.contract_linked", target=f"procedure:{request.id}",
                         receipt_number=request.receipt_number, member_id=member_id,
                         customer_number=request.customer_number)
        request.contract_id = contract_id
    db.session.flush()
    return linked
