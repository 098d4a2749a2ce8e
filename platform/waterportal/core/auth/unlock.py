"""Mailed unlock links: the owner's way past a slowdown an attacker keeps up.

When an account's unknown-device counter trips (core/auth/throttling.py), the owner is
mailed (at most once per window) a link with a random key; only its SHA-256 is stored,
with an expiry (:data:`UNLOCK_SECONDS`). Opening the link and pressing its button, once,
makes *that browser* a known device of the account (a device cookie, core/auth/devices.py):
from then on its failures count on its own counter, so the attacker's failures neither
slow nor block it. The link logs nobody in: the password is still needed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db

UNLOCK_SECONDS = 60 * 60


@dataclass(frozen=True)
class UnlockKind:
    """One account kind's unlock links (a city's table with UnlockLinkColumns)."""

    link_model: Any
    account_model: Any
    account_column: str  # the link's column naming the account, e.g. "member_id"


class LinkInvalid(Exception):
    """Unknown, tampered or already used."""


class LinkExpired(LinkInvalid):
    """Older than :data:`UNLOCK_SECONDS`."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def issue(kind: UnlockKind, account: Any) -> str:
    """A new unlock key for ``account`` of the current city (flushed); the caller mails it."""
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    link = kind.link_model(key_hash=_hash(key), created_at=now, expires_at=now + dt.timedelta(seconds=UNLOCK_SECONDS),
                           **{kind.account_column: account.id})
    db.session.add(link)
    db.session.flush()
    return key


def _link(kind: UnlockKind, tenant: Any, key: str):
    model = kind.link_model
    link = db.session.scalar(select(model).where(model.tenant_id == tenant.id, model.key_hash == _hash(key)))
    if link is None or link.used_at is not None:
        raise LinkInvalid
    if link.expires_at <= utcnow_naive():
        raise LinkExpired
    return link


def _account(kind: UnlockKind, tenant: Any, link) -> Any:
    model = kind.account_model
    account = db.session.scalar(select(model).where(
        model.tenant_id == tenant.id, model.id == getattr(link, kind.account_column)))
    if account is None or getattr(account, "disabled", False):
        raise LinkInvalid
    return account


def peek(kind: UnlockKind, tenant: Any, key: str) -> Any:
    """The account a live link names (nothing is used up). Raises LinkExpired / LinkInvalid."""
    return _account(kind, tenant, _link(kind, tenant, key))


def claim(kind: UnlockKind, tenant: Any, key: str) -> Any:
    """Use the link up (once: a conditional UPDATE, so two tabs cannot both) and return its
    account. Raises LinkExpired / LinkInvalid."""
    link = _link(kind, tenant, key)
    account = _account(kind, tenant, link)
    model = kind.link_model
    used = db.session.execute(
        update(model).where(model.id == link.id, model.used_at.is_(None))
        .values(used_at=utcnow_naive()).execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        raise LinkInvalid
    return account
