"""Members (citizens with a portal account), their server-side login sessions and the email
verification codes (a member's links to contracts are :class:`waterportal.contracts.models.MemberContract`)."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.auth.columns import LoginSessionColumns, UnlockLinkColumns
from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, city_login_session_args


class Member(TenantScoped, UserMixin, db.Model):
    """A citizen's portal account in one city. Email and login ID are unique per city only."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "login_id"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    login_id: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    secret_question: Mapped[str | None] = mapped_column(String(200))
    secret_answer_hash: Mapped[str | None] = mapped_column(String(255))
    relationship_to_holder: Mapped[str] = mapped_column(String(20), default="self")
    payment_method: Mapped[str] = mapped_column(String(40), default="none")
    notify_bills: Mapped[bool] = mapped_column(default=True)
    notify_notices: Mapped[bool] = mapped_column(default=True)
    # 漏水の可能性のお知らせ mail (billing.leak_mail): on unless the member switches it off
    # (rare and costly to miss); members from before it existed kept their bill-mail choice.
    notify_leak: Mapped[bool] = mapped_column(default=True)
    # The member's language for pages and mail (core/i18n.py: ja, en, easy); set at
    # registration and by the language switch while logged in.
    language: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")
    # Bumped by "end every session" (support staff, password reset): every older session
    # dies. A single logout ends only its own row in member_sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    data_visible_from: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    last_login_at: Mapped[dt.datetime | None]

    def get_id(self) -> str:
        """Flask-Login's session identifier: tenant, member, session version and session key."""
        # The key is the one accounts.session issued (or its loader found) for this request.
        key = getattr(self, "live_session_key", "") or ""
        return f"{self.tenant_id}:{self.id}:{self.session_version}:{key}"


# Login IDs are unique per city ignoring case, and looked up by lower(login_id) at login.
Index("uq_members_tenant_login_id_lower", Member.tenant_id, func.lower(Member.login_id), unique=True)


class MemberSession(LoginSessionColumns, TenantScoped, db.Model):
    """One login of a member: live until logout, password change, idle timeout or max age."""

    __tablename__ = "member_sessions"
    __table_args__ = city_login_session_args("member_sessions", "member_id", "members")

    member_id: Mapped[int]
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class MemberUnlockLink(UnlockLinkColumns, TenantScoped, db.Model):
    """A mailed link that makes one browser a known device of the member (core/auth/unlock.py)."""

    __tablename__ = "member_unlock_links"
    __table_args__ = city_login_session_args("member_unlock_links", "member_id", "members")

    member_id: Mapped[int]


class VerificationCode(TenantScoped, db.Model):
    """One code sent to one address for one purpose and subject."""

    __tablename__ = "verification_codes"
    __table_args__ = (TenantScoped.tenant_key(),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(80))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    # Set when a newer code was sent or the tries ran out.
    revoked_at: Mapped[dt.datetime | None]


Index("ix_verification_codes_lookup", VerificationCode.tenant_id, VerificationCode.purpose, VerificationCode.email)
