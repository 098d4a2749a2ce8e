"""The member's language (core/i18n.py): stored on the member so mail follows it."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import ColumnElement

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


def members_by_language(offered: Sequence[str]) -> Iterator[tuple[str, ColumnElement[bool]]]:
    """``(language, condition on Member)`` for each language a city's mail-out is written in
    (``offered``: mail.services.mail_languages): a member whose language the city does not
    offer (any more) is in the Japanese group, so each member is in exactly one."""
    others = [code for code in offered if code != DEFAULT_LANGUAGE]
    for code in offered:
        yield code, (Member.language == code if code != DEFAULT_LANGUAGE else Member.language.not_in(others))
