"""Columns the login tables share: every server-side session row (members, city staff,
vendor) and the two console accounts (city staff, vendor staff)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive


class LoginSessionColumns:
    """One login: its key, when it started, was last seen and ended (and why), and from where.

    The cookie holds a random key; the table keeps only its SHA-256 (``key_hash``, unique per
    city or platform-wide as each table declares), so a database leak yields no usable session.
    """

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class ConsoleAccountColumns:
    """What a console account (city staff, vendor staff) needs to log in: the password
    hash, the optional second factor, the session version and whether it is disabled."""

    password_hash: Mapped[str] = mapped_column(String(255))
    # The TOTP secret when the second factor is on, encrypted (core/auth/secret_box.py: a
    # Fernet token, 140 characters for a 32-character secret); the last accepted time step
    # stops replays.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None]
    # Bumped at password change, disable and TOTP reset: every older session dies.
    session_version: Mapped[int] = mapped_column(default=1)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    last_login_at: Mapped[dt.datetime | None]


class UnlockLinkColumns:
    """A mailed unlock link (core/auth/unlock.py): only the SHA-256 of its random key is
    stored; it works once (``used_at``) until ``expires_at``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
