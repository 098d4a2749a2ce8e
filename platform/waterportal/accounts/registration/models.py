"""Registration in progress, kept on the server between the four steps (see drafts.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped


class RegistrationDraft(TenantScoped, db.Model):
    """One citizen's registration between 1/4 and 4/4."""

    __tablename__ = "registration_drafts"
    # The token is random; unique in its city (Citus: a unique key carries the distribution column).
    __table_args__ = (UniqueConstraint("tenant_id", "token_hash"), TenantScoped.tenant_key())

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254), default="")
    email_verified_at: Mapped[dt.datetime | None]
    # What the citizen typed at 2/4 (no password, no secret answer), for 3/4 and 訂正.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    secret_answer_hash: Mapped[str | None] = mapped_column(String(255))
    # The outcome of contract matching at 2/4: a contract id or the mismatch reasons.
    contract_id: Mapped[int | None] = mapped_column(BIG_ID)
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
