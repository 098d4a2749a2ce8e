"""Fixtures of the procedure page tests: a logged-in member with a linked contract, in
either demo city."""
from __future__ import annotations

import datetime as dt

import pytest

from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"


@pytest.fixture
def member_client(app, client_for, make_member, make_contract, nayoro, kanazawa):
    """``member_client(slug, email)`` -> (logged-in client, linked contract id)."""
    cities = {"nayoro": nayoro, "kanazawa": kanazawa}

    def make(slug: str, email: str = "taro@example.jp"):
        city = cities[slug]
        contract_id = make_contract(city)
        login_id = email.split("@")[0].replace(".", "") + "01" if city.login_mode == "login_id" else None
        member_id = make_member(city, email=email, login_id=login_id, data_visible_from=dt.date(2020, 1, 1))
        with app.app_context(), tenant_context(city):
            db.session.add(MemberContract(member_id=member_id, contract_id=contract_id, label="自宅"))
            db.session.commit()
        client = client_for(slug)
        response = client.submit("/login", {"identifier": login_id or email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client, contract_id

    return make
