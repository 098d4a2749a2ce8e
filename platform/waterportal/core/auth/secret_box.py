"""Encryption at rest of the second factor's secrets (Fernet, from the ``cryptography`` package).

``TOTP_ENCRYPTION_KEYS`` (``FLASK_TOTP_ENCRYPTION_KEYS``) lists Fernet keys, newest first,
separated by commas or spaces (or a JSON list): the newest seals, every listed key opens. A
new key goes in front, ``flask keys rotate`` re-seals every stored secret under it, and then
the old key can leave. Production refuses to start without a key (``app.load_config``);
elsewhere a fixed key derived from ``SECRET_KEY`` stands in, so the demo needs no extra step.

The ``totp_secret`` column of the console accounts (``core/auth/columns.py``) holds only
what :func:`seal` returns; :func:`unseal` is the one way back.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Table, bindparam, select, update

from waterportal.core.auth.columns import ConsoleAccountColumns
from waterportal.extensions import db

CONFIG_KEY = "TOTP_ENCRYPTION_KEYS"
_EXTENSION = "waterportal.secret_box"
# A secret stored before encryption: base32 (pyotp). A Fernet token starts with "gAAAAA"
# (version byte 0x80), so it never matches.
_PLAIN_BASE32 = re.compile(r"[A-Z2-7]+=*")


class SealError(ValueError):
    """A stored secret that no configured key opens (or that was never sealed)."""


def generate_key() -> str:
    """A fresh key for ``TOTP_ENCRYPTION_KEYS`` (32 random bytes, url-safe base64)."""
    return Fernet.generate_key().decode()


def configured_keys(value: Any) -> list[str]:
    """The keys of a ``TOTP_ENCRYPTION_KEYS`` value: a list, or one string of keys
    separated by commas or whitespace. Newest first."""
    if not value:
        return []
    items: Iterable[Any] = value.replace(",", " ").split() if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def derived_key(secret_key: str) -> str:
    """The stand-in key of development, tests and the demo: fixed for a given ``SECRET_KEY``."""
    digest = hashlib.sha256(b"waterportal totp secret box, not for production\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def init_app(app: Flask, *, required: bool) -> None:
    """Build the key ring from ``app.config``. Raises ValueError (naming the setting, never a
    key) when a key is malformed, or when none is set and ``required`` (production)."""
    keys = configured_keys(app.config.get(CONFIG_KEY))
    if not keys:
        if required:
            raise ValueError(
                "production needs FLASK_TOTP_ENCRYPTION_KEYS: the key that encrypts the staff's and vendor's "
                "TOTP secrets (make one with `flask keys generate`)"
            )
        keys = [derived_key(str(app.config.get("SECRET_KEY") or ""))]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:  # also binascii.Error
            raise ValueError(
                f"FLASK_TOTP_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, as `flask keys generate` prints)"
            ) from None
    app.extensions[_EXTENSION] = MultiFernet(fernets)


def _ring() -> MultiFernet:
    return current_app.extensions[_EXTENSION]


def seal(secret: str) -> str:
    """``secret`` encrypted under the newest key: what the column stores."""
    return _ring().encrypt(secret.encode()).decode()


def unseal(stored: str) -> str:
    """The secret in a stored value. Raises SealError when no configured key opens it."""
    try:
        return _ring().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SealError("stored TOTP secret: no configured key opens it") from None


def is_plaintext(stored: str) -> bool:
    """A secret stored before encryption (plain base32)."""
    return bool(_PLAIN_BASE32.fullmatch(stored))


def reseal(stored: str) -> str:
    """A stored value under the newest key: re-encrypted, or sealed when it was still plain
    text. Raises SealError when no configured key opens it."""
    if is_plaintext(stored):
        return seal(stored)
    try:
        return _ring().rotate(stored.encode()).decode()
    except InvalidToken:
        raise SealError("stored TOTP secret: no configured key opens it") from None


def _secret_tables() -> list[Table]:
    """Every table of console accounts (city staff, vendor staff): generic over its users."""
    tables = {m.local_table for m in db.Model.registry.mappers if issubclass(m.class_, ConsoleAccountColumns)}
    return sorted(tables, key=lambda t: t.name)  # type: ignore[arg-type, return-value]


def reseal_all() -> dict[tuple[str, int | None], int]:
    """Re-seal every stored TOTP secret under the newest key, one read and one batched
    update per table (flushed with the session; the caller commits, so all or nothing).

    Returns how many secrets per (table, tenant_id) (tenant_id None: a platform-wide table).
    Raises SealError, changing nothing, when a stored secret opens with no configured key.
    """
    counts: collections.Counter[tuple[str, int | None]] = collections.Counter()
    batches = []
    for table in _secret_tables():
        tenant = table.c.get("tenant_id")
        columns = [table.c.id, table.c.totp_secret] + ([tenant] if tenant is not None else [])
        # A maintenance job over every city's rows, not a request: all_tenants, by design.
        rows = db.session.execute(
            select(*columns).where(table.c.totp_secret.is_not(None)).with_for_update(),
            execution_options={"all_tenants": True},
        ).all()
        # Every value is re-sealed before anything is written: a SealError leaves all as it was.
        batches.append((table, [{"row_id": row[0], "sealed": reseal(row[1])} for row in rows]))
        for row in rows:
            counts[(table.name, row[2] if tenant is not None else None)] += 1
    for table, params in batches:
        if params:
            db.session.execute(
                update(table).where(table.c.id == bindparam("row_id")).values(totp_secret=bindparam("sealed")),
                params,
                execution_options={"all_tenants": True},
            )
    return dict(counts)
