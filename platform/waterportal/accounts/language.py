"""The member's language (core/i18n.py): stored on the member so mail follows it."""
from __future__ import annotations

from waterportal.accounts.models import Member
from waterportal.core.i18n import DEFAULT_LANGUAGE, valid_language
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext


def set_member_language(member: Member, code: str) -> None:
    """Remember ``code`` as ``member``'s language (the caller commits); unknown codes are refused."""
    if valid_language(code) is None:
        raise ValueError(f"unknown language {code!r}")
    member.language = code


def language_for_address(tenant: TenantContext, address: str) -> str | None:
    """The language of the member of ``tenant`` with this email, or None (not a member)."""
    language = db.session.scalar(
        db.select(Member.language).where(Member.tenant_id == tenant.id, Member.email == address)
    )
    return valid_language(language) or (DEFAULT_LANGUAGE if language is not None else None)
