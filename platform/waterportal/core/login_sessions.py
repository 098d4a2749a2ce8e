"""The columns every server-side login session row shares (members, city staff, vendor)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.time import utcnow_naive


class LoginSessionColumns:
    """When a login started, was last seen and ended (and why), and from where.

    The cookie holds a random key; the table keeps only its SHA-256 (``key_hash``, declared
    by each model with its own uniqueness), so a database leak yields no usable session.
    """

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
