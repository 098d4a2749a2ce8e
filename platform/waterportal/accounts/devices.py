"""Device cookies: a browser that has logged in to an account before keeps its own
failure counter, so an attacker failing logins on purpose cannot keep the owner out.

This is OWASP's "device cookie" defence against account lockout. A successful login
sets a signed, host-only, HttpOnly cookie naming the account (never authenticating
anything by itself). While it is presented with the same account, failures count per
device instead of per account; every other browser still shares the account counter.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from waterportal.tenancy.context import TenantContext

COOKIE = "known_device"
MAX_AGE_DAYS = 365


def _serializer(tenant: TenantContext) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"login-device:{tenant.id}")


def issue(tenant: TenantContext, identifier_key: str) -> str:
    """A device token for this account (``identifier_key``: the lower-cased identifier)."""
    return _serializer(tenant).dumps(identifier_key)


def throttle_key(tenant: TenantContext, identifier_key: str, token: str | None) -> str | None:
    """The per-device throttle key when ``token`` is a valid device cookie for this account."""
    if not token:
        return None
    try:
        if _serializer(tenant).loads(token) != identifier_key:
            return None
    except BadSignature:
        return None
    return "device:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def presented() -> str | None:
    """The device cookie of the current request, if any."""
    return request.cookies.get(COOKIE)


def remember(response, token: str) -> None:
    """Set the device cookie on ``response`` (host-only, HttpOnly, SameSite=Lax)."""
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE_DAYS * 86400, httponly=True, samesite="Lax", path="/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
