"""The set-up every registration test shares: the walk-through helper on one city, and
the contract it registers with. A test module picks its city with ``CITY = "kanazawa"``
(default Nayoro); ``reg.client`` is the module's own city client (``client`` / ``kclient``)."""
from __future__ import annotations

import pytest

from tests.conftest import city
from tests.registration_support import PHONES, Registration

# The お客様番号 each city's test contract carries (11 digits in Nayoro, 10 in Kanazawa).
NUMBERS = {"nayoro": "00123456789", "kanazawa": "0012345678"}


@pytest.fixture
def reg_city(request, app):
    """The city of this test module (``CITY``, default Nayoro)."""
    return city(app, getattr(request.module, "CITY", "nayoro"))


@pytest.fixture
def kclient(client_for):
    """A client on Kanazawa."""
    return client_for("kanazawa")


@pytest.fixture
def reg(request, app, reg_city):
    """A registration in progress on the module's city, through the real pages."""
    client = request.getfixturevalue("kclient" if reg_city.slug == "kanazawa" else "client")
    return Registration(app, client, reg_city)


@pytest.fixture
def contract(make_contract, reg_city):
    """The module city's contract; returns its customer number."""
    number = NUMBERS[reg_city.slug]
    make_contract(reg_city, customer_number=number, phone=PHONES[reg_city.slug], holder_name_kana="スイドウタロウ")
    return number
