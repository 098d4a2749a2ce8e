"""Signed, purpose-bound, expiring tokens for links in mail (password reset, recovery).

A token carries the member id and a fingerprint of the member's current password hash,
signed with the app's secret and a salt naming the purpose and the city. So a token

* only works for its purpose (a reset token is not a recovery token) and its city,
* expires after ``max_age`` seconds,
* dies as soon as the password changes, which makes it single use without storing it.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

PASSWORD_RESET = "password-reset"  # noqa: S105 - a token purpose, not a password
LOGIN_RECOVERY = "login-recovery"
# Seconds a link stays valid.
MAX_AGE = {PASSWORD_RESET: 60 * 60, LOGIN_RECOVERY: 60 * 60}


class TokenInvalid(Exception):
    """Tampered, for another purpose or city, or already used (the password changed)."""


class TokenExpired(TokenInvalid):
    """Older than the purpose's ``max_age``."""


def _serializer(tenant: TenantContext, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"{purpose}:{tenant.id}")


def password_fingerprint(password_hash: str) -> str:
    """A short keyed digest of the stored hash: changes whenever the password does."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def make_token(tenant: TenantContext, member: Member, purpose: str) -> str:
    """A URL-safe token for ``member`` and ``purpose`` in ``tenant``."""
    return _serializer(tenant, purpose).dumps({"m": member.id, "f": password_fingerprint(member.password_hash)})


def read_token(tenant: TenantContext, token: str, purpose: str) -> Member:
    """Return the member a token names; raise TokenExpired or TokenInvalid."""
    try:
        data = _serializer(tenant, purpose).loads(token, max_age=MAX_AGE[purpose])
    except SignatureExpired as exc:
        raise TokenExpired(purpose) from exc
    except BadSignature as exc:
        raise TokenInvalid(purpose) from exc
    if not isinstance(data, dict):
        raise TokenInvalid(purpose)
    member_id = data.get("m")
    if not isinstance(member_id, int):
        raise TokenInvalid(purpose)
    member = db.session.scalar(select(Member).where(Member.tenant_id == tenant.id, Member.id == member_id))
    if member is None or not hmac.compare_digest(str(data.get("f", "")), password_fingerprint(member.password_hash)):
        raise TokenInvalid(purpose)
    return member
