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

from flask import session
from sqlalchemy import delete, select

from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

DRAFT_TTL = dt.timedelta(minutes=60)
SESSION_KEY = "registration_draft"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_draft(tenant: TenantContext) -> RegistrationDraft | None:
    """The unexpired draft of this browser in this city, or None."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    draft = db.session.scalar(select(RegistrationDraft).where(
        RegistrationDraft.tenant_id == tenant.id, RegistrationDraft.token_hash == _hash(token)))
    if draft is None or draft.expires_at <= utcnow_naive():
        return None
    return draft


def start_draft(tenant: TenantContext) -> RegistrationDraft:
    """Begin a new draft for this browser (forgetting any older one) and remember its token."""
    now = utcnow_naive()
    discard_draft(tenant)
    purge_expired_drafts(now)
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


def purge_expired_drafts(now: dt.datetime | None = None) -> int:
    """Delete the city's expired drafts; return how many went."""
    result = db.session.execute(
        delete(RegistrationDraft)
        .where(RegistrationDraft.expires_at <= (now or utcnow_naive()))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
