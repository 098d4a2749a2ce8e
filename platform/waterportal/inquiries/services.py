"""Inquiries: storing one, mailing the city and the citizen, and what the staff console reads.

Every function takes the city explicitly and flushes; the request (or command) commits,
so the inquiry and both outbox rows are one transaction.

The acknowledgement goes to whatever address was typed, so the form could be abused to
make the city mail strangers. Two things keep that useless to a spammer: a throttle per
client address and per recipient, and an acknowledgement that echoes nothing the sender
typed unless the address is a logged-in member's own (verified) address.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import url_for
from flask_babel import gettext
from sqlalchemy import func, select, update

from waterportal.accounts.models import Member
from waterportal.audit import services as audit
from waterportal.core import throttle
from waterportal.core.text import digits_only, normalise_email, squash_spaces
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.inquiries.models import (
    CATEGORIES,
    STATUS_ANSWERED,
    STATUS_NEW,
    Inquiry,
)
from waterportal.mail.services import portal_url, queue_mail
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.inquiries")

PER_ADDRESS = throttle.Rule("inquiry-ip", "5 per hour")
PER_RECIPIENT = throttle.Rule("inquiry-recipient", "5 per hour")


class InquiryThrottled(Exception):
    """Too many inquiries from this client or to this address; ``seconds`` until the next."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        super().__init__(f"inquiry throttled for {seconds}s")


def throttle_message(seconds: int) -> str:
    """The notice for a throttled submission, in the request's language."""
    minutes = max(1, -(-seconds // 60))
    return gettext("短時間に多くのお問い合わせが送信されたため、受付を一時停止しています。"
                   "%(minutes)s分ほど時間をおいてから、もう一度お試しください。", minutes=minutes)


def submit_inquiry(
    tenant: TenantContext,
    *,
    name: str,
    email: str,
    category: str,
    subject: str,
    body: str,
    customer_number: str = "",
    member: Member | None = None,
    remote_addr: str = "",
) -> Inquiry:
    """Store an inquiry of ``tenant``, mail it to the city's ``contact.inquiry_email`` and
    acknowledge it to ``email``. Raises :class:`InquiryThrottled` past the limits."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown inquiry category {category!r}")
    email = normalise_email(email)
    keys = [(PER_RECIPIENT, email)] + ([(PER_ADDRESS, remote_addr)] if remote_addr else [])
    waits = [throttle.retry_after(tenant, rule, key) for rule, key in keys if not throttle.allowed(tenant, rule, key)]
    if waits:
        log.warning("inquiry throttled (tenant=%s)", tenant.slug)
        raise InquiryThrottled(max(waits))
    for rule, key in keys:
        throttle.hit(tenant, rule, key)
    inquiry = Inquiry(
        tenant_id=tenant.id, member_id=member.id if member is not None else None,
        name=squash_spaces(name)[:100], email=email, customer_number=digits_only(customer_number)[:20],
        category=category, subject=squash_spaces(subject)[:100], body=body.strip(), remote_addr=remote_addr[:64],
        created_at=utcnow_naive(),
    )
    db.session.add(inquiry)
    db.session.flush()
    received_at = local_now(tenant.timezone)
    queue_mail(tenant, tenant.settings["contact"]["inquiry_email"], "inquiry_received", inquiry=inquiry,
               received_at=received_at, member=member)
    # Only a member's own, verified address gets the content echoed back (see module doc).
    echo = member is not None and member.email == email
    queue_mail(tenant, email, "inquiry_ack", inquiry=inquiry, received_at=received_at, echo=echo,
               member=member if echo else None, contact_url=portal_url(tenant, url_for("pages.contact")))
    actor = f"member:{member.id}" if member is not None else "anonymous"
    audit.record(actor, "inquiry.submitted", target=f"inquiry:{inquiry.id}", remote_addr=remote_addr,
                 category=category)
    return inquiry


def list_inquiries(tenant: TenantContext, status: str | None = None, limit: int = 100) -> Sequence[Inquiry]:
    """The city's inquiries, newest first (optionally only ``new`` or ``answered``)."""
    query = select(Inquiry).where(Inquiry.tenant_id == tenant.id).order_by(Inquiry.id.desc()).limit(limit)
    if status:
        query = query.where(Inquiry.status == status)
    return db.session.scalars(query).all()


def count_new(tenant: TenantContext) -> int:
    """How many inquiries of the city nobody has answered yet."""
    return db.session.scalar(
        select(func.count(Inquiry.id)).where(Inquiry.tenant_id == tenant.id, Inquiry.status == STATUS_NEW)
    ) or 0


def get_inquiry(tenant: TenantContext, inquiry_id: int) -> Inquiry | None:
    """The inquiry with this id in ``tenant`` (None for any other city's)."""
    return db.session.scalar(select(Inquiry).where(Inquiry.tenant_id == tenant.id, Inquiry.id == inquiry_id))


def mark_answered(tenant: TenantContext, inquiry: Inquiry, actor: str, remote_addr: str = "") -> None:
    """Staff answered ``inquiry`` (by mail or phone, outside the portal): record who and when."""
    if inquiry.tenant_id != tenant.id:
        raise ValueError("inquiry of another city")
    inquiry.status, inquiry.answered_at, inquiry.answered_by = STATUS_ANSWERED, utcnow_naive(), actor
    audit.record(actor, "inquiry.answered", target=f"inquiry:{inquiry.id}", remote_addr=remote_addr)


def reopen(tenant: TenantContext, inquiry: Inquiry, actor: str, remote_addr: str = "") -> None:
    """Put an answered inquiry back to 未対応."""
    if inquiry.tenant_id != tenant.id:
        raise ValueError("inquiry of another city")
    inquiry.status, inquiry.answered_at, inquiry.answered_by = STATUS_NEW, None, ""
    audit.record(actor, "inquiry.reopened", target=f"inquiry:{inquiry.id}", remote_addr=remote_addr)


def detach_member(tenant: TenantContext, member_id: int) -> int:
    """Forget which member sent the city's inquiries (withdrawal); the inquiries stay."""
    result = db.session.execute(
        update(Inquiry)
        .where(Inquiry.tenant_id == tenant.id, Inquiry.member_id == member_id)
        .values(member_id=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
