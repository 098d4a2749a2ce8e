"""Fixtures for ⑦⑧⑨: members with contracts in either city,
logging in through the real form, and reading the rows and mails the app wrote."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.registration_support import mails
from waterportal.accounts.models import Member
from waterportal.audit.models import AuditEntry
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"
# A new password each city's policy accepts (Nayoro needs a symbol and capitals; Kanazawa 10+).
NEW_PASSWORDS = {"nayoro": "Suido#2026ab", "kanazawa": "kanazawa2026x"}
CITIES = ["nayoro", "kanazawa"]


@dataclass
class Person:
    """A member of one city: ids, how they log in, and their contracts' numbers."""

    tenant: object
    member_id: int
    email: str
    login_id: str | None
    contract_ids: list[int]
    numbers: list[str]

    @property
    def identifier(self) -> str:
        return self.login_id or self.email


@pytest.fixture(params=CITIES)
def slug(request):
    """Run the test once per city."""
    return request.param


@pytest.fixture
def tenant(slug, nayoro, kanazawa):
    return {"nayoro": nayoro, "kanazawa": kanazawa}[slug]


@pytest.fixture
def person(app, make_member, make_contract):
    """``person(city, email=..., contracts=1)`` -> a :class:`Person` linked to new contracts."""
    from waterportal.contracts.models import Contract

    counter = iter(range(1, 1000))

    def make(tenant, email="taro@example.jp", contracts=1, login_id=None, **fields) -> Person:
        if tenant.login_mode == "login_id" and login_id is None:
            login_id = f"{email.split('@')[0]}{next(counter):02d}x"[:20].ljust(6, "0")
        member_id = make_member(tenant, email=email, login_id=login_id, **fields)
        ids = [make_contract(tenant) for _ in range(contracts)]
        with app.app_context(), tenant_context(tenant):
            for contract_id in ids:
                db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
            db.session.commit()
            numbers = [db.session.get(Contract, cid).customer_number for cid in ids]
        return Person(tenant, member_id, email, login_id, ids, numbers)

    return make


@pytest.fixture
def login():
    """``login(client, person)`` posts the real login form; returns the response."""

    def submit(client, who: Person, password: str = PASSWORD):
        return client.submit("/login", {"identifier": who.identifier, "password": password})

    return submit


@pytest.fixture
def logged_in(client_for, login, clock):
    """``logged_in(person)`` -> a client of the person's city, logged in."""

    def make(who: Person, password: str = PASSWORD):
        client = client_for(who.tenant.slug)
        response = login(client, who, password)
        assert response.status_code == 302 and response.headers["Location"] == "/mypage", response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def load_member(app):
    """``load_member(person)`` -> a detached snapshot dict of the member row (None if gone)."""

    def read(who: Person):
        with app.app_context(), tenant_context(who.tenant):
            member = db.session.scalar(select(Member).where(Member.id == who.member_id))
            if member is None:
                return None
            return {c.name: getattr(member, c.name) for c in Member.__table__.columns}

    return read


@pytest.fixture
def audit_actions(app):
    """``audit_actions(person)`` -> the actions audited for the member, oldest first."""

    def read(who: Person):
        with app.app_context(), tenant_context(who.tenant):
            return db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor == f"member:{who.member_id}").order_by(AuditEntry.id)
            ).all()

    return read


@pytest.fixture
def outbox(app):
    """``outbox(city, to=..., kind=...)`` -> the city's queued mails as dicts."""

    def read(tenant, to=None, kind=None):
        return mails(app, tenant, to=to, kind=kind)

    return read


def text(response) -> str:
    return response.get_data(as_text=True)
