"""Fixtures of the staff console tests: staff factories and logged-in staff clients."""
from __future__ import annotations

import re

import pytest

from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

STAFF_PASSWORD = "Josui-Pump-2026!"


def login_staff(client, email: str, password: str = STAFF_PASSWORD):
    """POST the staff login form (with its CSRF token); return the response."""
    return client.submit("/admin/login", {"email": email, "password": password})


def form_fields(body: str) -> dict[str, str]:
    """Every named input/textarea value of a page (what a browser would post back).

    Checkboxes are included only when checked; the values are HTML-unescaped.
    """
    import html

    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        if kind in ("checkbox", "radio") and " checked" not in tag:
            continue
        if kind == "file":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    for name, value in re.findall(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.DOTALL):
        fields[html.unescape(name)] = html.unescape(value)
    return fields


@pytest.fixture
def make_staff(app):
    """Factory: a staff member of a city (password STAFF_PASSWORD unless given); returns the id."""
    from waterportal.admin.models import StaffMember
    from waterportal.core.auth import secret_box
    from waterportal.core.auth.passwords import hash_password

    def make(tenant, email="kanri@example.jp", role="admin", password=STAFF_PASSWORD, **fields):
        with app.app_context(), tenant_context(tenant):
            if fields.get("totp_secret"):  # stored as the app stores it: sealed
                fields["totp_secret"] = secret_box.seal(fields["totp_secret"])
            staff = StaffMember(email=email, role=role, name=fields.pop("name", "水道 管理"),
                                password_hash=hash_password(password), **fields)
            db.session.add(staff)
            db.session.commit()
            return staff.id

    return make


@pytest.fixture
def staff_client(app, client_for, make_staff):
    """``staff_client("kanazawa", role="admin")`` -> a client logged in as a new staff member."""
    from tests.conftest import city

    def make(slug: str, role: str = "admin", email: str | None = None):
        tenant = city(app, slug)
        address = email or f"{role}-{slug}@example.jp"
        staff_id = make_staff(tenant, email=address, role=role)
        client = client_for(slug)
        response = login_staff(client, address)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.staff_id = staff_id
        client.email = address
        return client

    return make


@pytest.fixture
def audit_entries(app):
    """``audit_entries(tenant, action=None)`` -> list of (actor, action, target, detail)."""
    from sqlalchemy import select

    from waterportal.audit.models import AuditEntry

    def read(tenant, action: str | None = None):
        with app.app_context(), tenant_context(tenant):
            query = select(AuditEntry).order_by(AuditEntry.id)
            if action:
                query = query.where(AuditEntry.action == action)
            return [(e.actor, e.action, e.target, e.detail, e.remote_addr) for e in db.session.scalars(query)]

    return read
