"""Device cookies: a browser that has logged in to an account before (or opened the
account's mailed unlock link) keeps its own failure counter, so an attacker failing logins
on purpose can neither block nor slow the owner there (core/auth/throttling.py).

This is OWASP's "device cookie" defence against account lockout. The cookie is signed
(the app's secret, a salt naming the kind and the city), names its account and a random
nonce, and authenticates nothing by itself: it only chooses which counter a failure counts
against. Host-only (no Domain), HttpOnly, SameSite=Lax, Secure wherever the session cookie
is (production), a year long. The throttle key is a hash of the cookie, never the cookie.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from waterportal.core.web import token_page

MAX_AGE_DAYS = 365
UNLOCKED = _l("このブラウザのログインの制限を解除しました。パスワードを入力してログインしてください。")


@dataclass(frozen=True)
class DeviceKind:
    """One account kind's device cookie."""

    cookie: str  # its name
    salt: str  # the signature's purpose (the city's id is appended)
    path: str = "/"  # the console's cookie stays under the console's path


MEMBER = DeviceKind("known_device", "login-device")
STAFF = DeviceKind("staff_device", "staff-login-device", "/admin/")
VENDOR = DeviceKind("vendor_device", "vendor-login-device")


def _serializer(kind: DeviceKind, tenant: Any) -> URLSafeSerializer:
    city = tenant.id if tenant is not None else "platform"
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"{kind.salt}:{city}")


def issue(kind: DeviceKind, tenant: Any, account_key: str) -> str:
    """A new device token for the account ``account_key`` (the normalised identifier)."""
    return _serializer(kind, tenant).dumps({"a": account_key, "n": secrets.token_urlsafe(12)})


def device_key(kind: DeviceKind, tenant: Any, account_key: str, token: str | None) -> str | None:
    """The throttle key of a valid device cookie for this account, else None."""
    if not token:
        return None
    try:
        data = _serializer(kind, tenant).loads(token)
    except BadSignature:
        return None
    # A plain string: the members' first cookies (the account only, no nonce).
    named = data.get("a") if isinstance(data, dict) else data
    if not isinstance(named, str) or named != account_key:
        return None
    return "device:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def presented(kind: DeviceKind) -> str | None:
    """The device cookie of the current request, if any."""
    return request.cookies.get(kind.cookie)


def remember(kind: DeviceKind, response, token: str | None) -> None:
    """Set the device cookie on ``response`` (host-only, HttpOnly, SameSite=Lax, Secure in production)."""
    if not token:
        return
    response.set_cookie(
        kind.cookie, token, max_age=MAX_AGE_DAYS * 86400, httponly=True, samesite="Lax", path=kind.path,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def unlocked(kind: DeviceKind, login_url: str, token: str):
    """The answer to a used unlock link (core/auth/unlock.py): back to the login page, as a
    known device of the link's account from now on."""
    flash(str(UNLOCKED), "info")
    response = token_page(redirect(login_url))
    remember(kind, response, token)
    return response
