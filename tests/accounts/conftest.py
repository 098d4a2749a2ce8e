"""Fixtures for the login, session and recovery tests: logging in through the real form,
and reading mail from the outbox (the suite's frozen clock is tests/clock.py)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

JST = ZoneInfo("Asia/Tokyo")
PASSWORD = "Passw0rd!x"


@pytest.fixture
def login():
    """``login(client, "taro@example.jp")`` posts the real login form; returns the response."""

    def submit(client, identifier, password=PASSWORD, remember=False, **kwargs):
        data = {"identifier": identifier, "password": password}
        if remember:
            data["remember_id"] = "y"
        return client.submit("/login", data, **kwargs)

    return submit


@pytest.fixture
def outbox(app):
    """``outbox(city)`` -> the city's OutboxMessage rows, oldest first (detached copies)."""

    def read(tenant, kind: str | None = None):
        with app.app_context(), tenant_context(tenant):
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if kind:
                query = query.where(OutboxMessage.kind == kind)
            rows = db.session.scalars(query).all()
            return [
                {"to": r.to_address, "subject": r.subject, "body": r.body, "kind": r.kind, "status": r.status}
                for r in rows
            ]

    return read


def link_in(body: str) -> str:
    """The first portal URL in a mail body, as a path (the client sends the Host)."""
    match = re.search(r"http://[a-z.]+(/\S+)", body)
    assert match, body
    return match.group(1)


@pytest.fixture
def mail_link():
    return link_in


def without_csrf(body: str) -> str:
    """A page with its CSRF token values blanked, for byte-for-byte comparisons."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", body)


@pytest.fixture
def strip_csrf():
    return without_csrf
