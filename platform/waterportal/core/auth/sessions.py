"""Server-side login sessions, the same for members, city staff and vendor staff.

Flask's cookie session has no server-side identity, so logging out could not stop a copied
cookie. Each login therefore creates a row with a random key; the cookie carries a token
``"<tenant_id>:<account_id>:<session_version>:<key>"`` (``"<account_id>:<session_version>:<key>"``
for accounts of no city) and the table keeps only the key's SHA-256, so a database leak
yields no usable session. A token is accepted only when

* its tenant id is the request's city (a cookie replayed on another city is worthless),
* the row is live: not ended (logout, password change), not idle for longer than the
  kind's idle timeout, and younger than its maximum age (an expired row is ended here),
* the account exists (in this city), is not disabled, and its ``session_version`` matches
  (bumping it ends every session of the account at once).

Activity is written at most once per ``touch_interval`` to keep writes low. What differs
between the kinds is declared once per kind in a :class:`SessionKind`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import session
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select, update

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db

# Why a session ended on its own, as the account holder reads it after the redirect (lazy:
# the citizen's language; the consoles are always Japanese).
END_MESSAGES = {
    "idle": _l("一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。"),
    "max_age": _l("ログインの有効期限が切れました。もう一度ログインしてください。"),
}


@dataclass(frozen=True)
class SessionKind:
    """What one account kind's sessions are made of."""

    session_model: Any  # a LoginSessionColumns model with ``key_hash`` and the account column
    account_model: Any  # with ``id`` and ``session_version`` (and ``disabled``, if it can be)
    account_column: str  # the session model's column naming the account, e.g. "member_id"
    idle: Callable[[Any], dt.timedelta]  # the city (None for vendors) -> idle timeout
    max_age: Callable[[], dt.timedelta]
    touch_interval: dt.timedelta
    per_city: bool  # rows and tokens carry the tenant id
    cookie_key: str | None = None  # where the token lives in Flask's session (None: Flask-Login)
    pending_key: str | None = None  # the second-factor marker (core/auth/pending.py)

    def account_id_column(self):
        return getattr(self.session_model, self.account_column)


@dataclass
class Loaded:
    """The outcome of :func:`load`: the account and its live row, or why there is none."""

    account: Any | None = None
    row: Any | None = None
    key: str = ""
    # "idle" or "max_age" when this load found the session expired and ended it.
    ended: str | None = None


def hash_key(key: str) -> str:
    """The SHA-256 of a session key, as stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def make_token(account: Any, secret: str, *, per_city: bool) -> str:
    """The cookie token naming ``account`` (its city, id and session version) and ``secret``."""
    prefix = f"{account.tenant_id}:" if per_city else ""
    return f"{prefix}{account.id}:{account.session_version}:{secret}"


def parse_token(token: Any, *, per_city: bool) -> tuple[int | None, int, int, str] | None:
    """``(tenant_id, account_id, session_version, secret)`` of a token, None when malformed."""
    parts = str(token).split(":", 3 if per_city else 2)
    if not per_city:
        parts.insert(0, "")
    try:
        tenant_part, account_part, version_part, secret = parts
        return (int(tenant_part) if per_city else None), int(account_part), int(version_part), secret
    except ValueError:
        return None


def start(kind: SessionKind, account: Any, *, remote_addr: str = "", **columns: Any) -> str:
    """Create a live session row for ``account`` (flushed) and return its secret key."""
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    if kind.per_city:
        columns["tenant_id"] = account.tenant_id
    db.session.add(kind.session_model(
        key_hash=hash_key(key), created_at=now, last_seen_at=now, remote_addr=remote_addr[:64],
        **{kind.account_column: account.id}, **columns,
    ))
    db.session.flush()
    return key


def end(kind: SessionKind, key: str | None, reason: str = "logout") -> None:
    """End the session with ``key`` (no-op when unknown or already ended)."""
    if not key:
        return
    model = kind.session_model
    db.session.execute(
        update(model).where(model.key_hash == hash_key(key), model.ended_at.is_(None))
        .values(ended_at=utcnow_naive(), end_reason=reason)
    )


def end_all(kind: SessionKind, account: Any, reason: str, keep_key: str | None = None) -> int:
    """End every live session of ``account`` except ``keep_key``'s; return how many ended."""
    model = kind.session_model
    stmt = update(model).where(kind.account_id_column() == account.id, model.ended_at.is_(None))
    if keep_key:
        stmt = stmt.where(model.key_hash != hash_key(keep_key))
    result = db.session.execute(stmt.values(ended_at=utcnow_naive(), end_reason=reason))
    return result.rowcount or 0


def _expiry(kind: SessionKind, row: Any, tenant: Any, now: dt.datetime) -> str | None:
    if now - row.last_seen_at >= kind.idle(tenant):
        return "idle"
    if now - row.created_at >= kind.max_age():
        return "max_age"
    return None


def _in_city(kind: SessionKind, model: Any, tenant: Any) -> tuple:
    """The explicit city condition for a lookup by a token's ids (docs/architecture.md: a
    lookup by a value from outside names the city, besides the isolation layer)."""
    return (model.tenant_id == tenant.id,) if kind.per_city else ()


def _usable(account: Any | None, version: int) -> Any | None:
    if account is None or getattr(account, "disabled", False) or account.session_version != version:
        return None
    return account


def find_account(kind: SessionKind, account_id: int, version: int, tenant: Any) -> Any | None:
    """The account (of ``tenant``, for city kinds) if usable at ``version``, else None."""
    model = kind.account_model
    return _usable(db.session.scalar(select(model).where(*_in_city(kind, model, tenant), model.id == account_id)), version)


_statements: dict[SessionKind, Any] = {}


def _load_statement(kind: SessionKind) -> Any:
    """The live row of a token joined to its account: one statement, built once per kind.

    This runs before every page: the login check was 29% of a dashboard request with two
    SELECTs built anew each time (issue 10). Values are bound at execution
    (``key_hash``, ``account_id`` and, for city kinds, ``tenant_id``: the city is named
    explicitly, besides the isolation layer).
    """
    statement = _statements.get(kind)
    if statement is None:
        model, account_model = kind.session_model, kind.account_model
        on = [account_model.id == kind.account_id_column()]
        where = [model.key_hash == bindparam("key_hash"), kind.account_id_column() == bindparam("account_id"),
                 model.ended_at.is_(None)]
        if kind.per_city:
            tenant_id = bindparam("tenant_id")
            on.append(account_model.tenant_id == tenant_id)
            where.append(model.tenant_id == tenant_id)
        statement = _statements[kind] = select(model, account_model).outerjoin(account_model, and_(*on)).where(*where)
    return statement


def load(kind: SessionKind, token: Any, tenant: Any) -> Loaded:
    """Validate ``token`` against the live rows (see the module docstring); touch the row.

    ``tenant`` is the request's city (None for the vendor console). Writes are left in
    the session for the caller to commit.
    """
    parsed = parse_token(token, per_city=kind.per_city)
    if parsed is None:
        return Loaded()
    tenant_id, account_id, version, key = parsed
    if not key or (kind.per_city and (tenant is None or tenant_id != tenant.id)):
        return Loaded()
    values = {"key_hash": hash_key(key), "account_id": account_id}
    if kind.per_city:
        values["tenant_id"] = tenant.id
    found = db.session.execute(_load_statement(kind), values).first()
    if found is None:
        return Loaded()
    row, account = found
    now = utcnow_naive()
    reason = _expiry(kind, row, tenant, now)
    if reason:
        row.ended_at, row.end_reason = now, reason
        return Loaded(ended=reason)
    account = _usable(account, version)
    if account is None:
        return Loaded()
    if now - row.last_seen_at >= kind.touch_interval:
        row.last_seen_at = now
    return Loaded(account=account, row=row, key=key)


# --- kinds whose token lives under its own key in Flask's cookie session (staff, vendor) ---

def start_in_cookie(kind: SessionKind, account: Any, remote_addr: str) -> str:
    """Rotate: end this browser's session of ``kind``, start a fresh one, put its token in
    the cookie and drop the second-factor marker. Returns the token."""
    end_in_cookie(kind, "relogin")
    key = start(kind, account, remote_addr=remote_addr)
    token = make_token(account, key, per_city=kind.per_city)
    if kind.pending_key:
        session.pop(kind.pending_key, None)
    session[kind.cookie_key] = token
    return token


def end_in_cookie(kind: SessionKind, reason: str = "logout") -> None:
    """End this browser's session of ``kind`` (row and cookie key)."""
    token = session.pop(kind.cookie_key, None)
    end(kind, str(token).rsplit(":", 1)[-1] if token else "", reason)


def load_from_cookie(kind: SessionKind, tenant: Any) -> Loaded:
    """Before a console request: the live session named by the cookie; a dead one leaves the
    cookie; the touch (or the ending) is committed here so no view commits it by accident."""
    token = session.get(kind.cookie_key)
    if not token:
        return Loaded()
    loaded = load(kind, token, tenant)
    if loaded.account is None:
        session.pop(kind.cookie_key, None)
    if db.session.dirty:
        db.session.commit()
    return loaded
