"""Registration in progress, kept on the server between the four steps.

The browser holds only a random token in its (signed, host-only) session cookie; the
table keeps the SHA-256 of that token, so a copy of the table cannot resume anyone's
registration. Rows are city-scoped: a token from one city finds nothing in another.
The password and the secret answer are stored only as their argon2id hashes, made at
step 2. A draft lives :data:`DRAFT_TTL` after its last step and is then purged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import session
from sqlalchemy import JSON, Index, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import TenantScoped

DRAFT_TTL = dt.timedelta(minutes=60)
SESSION_KEY = "registration_draft"


class RegistrationDraft(TenantScoped, db.Model):
    """One citizen's registration between 1/4 and 4/4."""

    __tablename__ = "registration_drafts"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    email_verified_at: Mapped[dt.datetime | None]
    # What the citizen typed at 2/4 (no password, no secret answer), for 3/4 and 訂正.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    secret_answer_hash: Mapped[str | None] = mapped_column(String(255))
    # The outcome of contract matching at 2/4: a contract id or the mismatch reasons.
    contract_id: Mapped[int | None]
    match_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    expires_at: Mapped[dt.datetime]

    @property
    def subject(self) -> str:
        """The verification-code subject of this draft."""
        return f"draft:{self.id}"

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def details_done(self) -> bool:
        return bool(self.details) and self.password_hash is not None


Index("ix_registration_drafts_tenant_expires", RegistrationDraft.tenant_id, RegistrationDraft.expires_at)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_draft(tenant: TenantContext) -> RegistrationDraft | None:
    """The unexpired draft of this browser in this city, or None."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    draft = db.session.scalar(select(RegistrationDraft).where(RegistrationDraft.token_hash == _hash(token)))
    if draft is None or draft.tenant_id != tenant.id or draft.expires_at <= utcnow_naive():
        return None
    return draft


def start_draft(tenant: TenantContext) -> RegistrationDraft:
    """Begin a new draft for this browser (forgetting any older one) and remember its token."""
    now = utcnow_naive()
    discard_draft(tenant)
    purge_expired_drafts(tenant, now)
    token = secrets.token_urlsafe(32)
    draft = RegistrationDraft(tenant_id=tenant.id, token_hash=_hash(token), created_at=now, expires_at=now + DRAFT_TTL)
    db.session.add(draft)
    db.session.flush()
    session[SESSION_KEY] = token
    return draft


def touch(draft: RegistrationDraft) -> None:
    """Extend the draft's life after a completed step."""
    draft.expires_at = utcnow_naive() + DRAFT_TTL


def discard_draft(tenant: TenantContext) -> None:
    """Delete this browser's draft (cancel, finish, or start over) and forget the token."""
    draft = current_draft(tenant)
    if draft is not None:
        db.session.delete(draft)
        db.session.flush()
    session.pop(SESSION_KEY, None)


def purge_expired_drafts(tenant: TenantContext, now: dt.datetime | None = None) -> int:
    """Delete the city's expired drafts; return how many went."""
    result = db.session.execute(
        delete(RegistrationDraft)
        .where(RegistrationDraft.expires_at <= (now or utcnow_naive()))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
