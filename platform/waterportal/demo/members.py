"""Ready-made demo members, so a tester can log in and see two years of bills at once.

A member who registers during the demo waits the city's 1 or 2 business days before usage
and bills show (that is the cities' rule); these members registered "earlier", so their
data is visible today. They go through the real registration service (member, contract
link, audit entry) and are created once: running again changes nothing. Their welcome
mail is dropped before it is committed: it would announce the business-day wait.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from waterportal.accounts.registration.services import register_member
from waterportal.accounts.secret import hash_answer
from waterportal.accounts.services import find_member_by_email
from waterportal.billing.certificates import issue_certificate, paid_months
from waterportal.billing.leak_mail import record_leak_mail_for_links
from waterportal.billing.models import PaymentCertificate
from waterportal.contracts.models import Contract
from waterportal.contracts.services import link_contract
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context


@dataclass(frozen=True)
class DemoMember:
    """Credentials and contracts of one ready-made member (the first contract is the registered one)."""

    email: str
    password: str
    nickname: str
    customer_numbers: tuple[str, ...]
    login_id: str | None = None
    secret_question: str | None = None
    secret_answer: str | None = None


DEMO_MEMBERS: dict[str, DemoMember] = {
    "nayoro": DemoMember(
        email="demo@nayoro.localhost", password="Demo2024!x", nickname="風連花子",
        customer_numbers=("00012345682",),
    ),
    "kanazawa": DemoMember(
        email="demo@kanazawa.localhost", password="kanazawa2024", nickname="金沢一郎",
        customer_numbers=("0100012345", "0100012356"), login_id="kanazawa-demo",
        secret_question="好きな食べ物は?", secret_answer="のどぐろ",
    ),
}


def ensure_demo_member(tenant: TenantContext, today: dt.date) -> tuple[DemoMember, bool]:
    """Create the city's demo member if missing; return it and whether it was created. Flushes only."""
    spec = DEMO_MEMBERS[tenant.slug]
    with tenant_context(tenant):
        if find_member_by_email(tenant, spec.email) is not None:
            return spec, False
        contracts = [
            db.session.scalar(select(Contract).where(Contract.customer_number == number))
            for number in spec.customer_numbers
        ]
        missing = [n for n, c in zip(spec.customer_numbers, contracts, strict=True) if c is None]
        if missing:
            raise LookupError(f"{tenant.slug}: demo contracts not imported yet: {', '.join(missing)}")
        member = register_member(
            tenant, email=spec.email, nickname=spec.nickname, password=spec.password,
            contract_id=contracts[0].id, relationship="本人",
            payment_method=tenant.settings["registration"]["payment_methods"][0],
            login_id=spec.login_id, secret_question=spec.secret_question,
            secret_answer_hash=hash_answer(spec.secret_answer) if spec.secret_answer else None,
            remote_addr="demo",
        )
        for contract in contracts[1:]:
            link_contract(tenant, member.id, contract.id)
        # Registered "earlier": the business-day wait is already over, and the welcome
        # mail announcing it is never sent.
        member.data_visible_from = today
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == spec.email, OutboxMessage.status == "pending")
        ):
            db.session.delete(message)
        db.session.flush()
        # ... and the 漏水の可能性 mail of its contracts' flagged bills reaches it (the worker's job).
        record_leak_mail_for_links(tenant)
    return spec, True


def ensure_demo_certificate(tenant: TenantContext, now: dt.datetime) -> PaymentCertificate | None:
    """The demo member's 収納済証明書 of its first contract's newest paid bill (issued once,
    as the member would from the bill page); None while that contract has no paid bill. Flushes only."""
    spec = DEMO_MEMBERS[tenant.slug]
    with tenant_context(tenant):
        member = find_member_by_email(tenant, spec.email)
        contract = db.session.scalar(select(Contract).where(Contract.customer_number == spec.customer_numbers[0]))
        if member is None or contract is None:
            return None
        months = paid_months(contract.id)
        if not months:
            return None
        certificate = issue_certificate(tenant, member.id, contract, months[-1], months[-1], now, remote_addr="demo")
        db.session.flush()
        return certificate

