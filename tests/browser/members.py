"""Members for the browser tests: committed through the real import services."""
from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import select

from tests.clock import DAYTIME
from tests.imports.helpers import contract_row, csv_text
from tests.mypage.usage.conftest import history_rows, issue_all
from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS, import_readings
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

PASSWORD = "Passw0rd!x"
# Each city's history: Nayoro bills monthly (24 bills = two years), Kanazawa every other month.
HISTORY = {"nayoro": {"count": 24, "newest": "2026-10", "step": 1, "digits": 11},
           "kanazawa": {"count": 12, "newest": "2026-09", "step": 2, "digits": 10}}


def member_with_bills(app, slug: str = "nayoro") -> tuple[str, str, list[dict]]:
    """A committed member of ``slug`` linked to a new contract with two years of bills and 30 days of
    daily readings; returns
    what to type at the login (the e-mail or the login ID), the お客さま番号 and the bill rows
    (oldest first, the newest unpaid)."""
    spec = HISTORY[slug]
    number = f"{random.randrange(10 ** (spec['digits'] - 1), 10 ** spec['digits'])}"
    email = f"screens-{uuid.uuid4().hex[:10]}@example.jp"
    login_id = f"scr{uuid.uuid4().hex[:8]}"
    rows = history_rows(number, spec["count"], newest=spec["newest"], step=spec["step"])
    with app.app_context():
        city = get_registry().by_slug(slug)
        with tenant_context(city):
            assert import_contracts(city, csv_text(CONTRACT_COLUMNS, [contract_row(number)]).encode()).ok
            assert import_bills(city, csv_text(BILL_COLUMNS, rows).encode()).ok
            # A smart meter: 30 days of daily use up to the day before the suite's day (④'s daily chart, 見守り).
            yesterday = DAYTIME.date() - dt.timedelta(days=1)
            readings = [{"customer_number": number, "reading_date": (yesterday - dt.timedelta(days=n)).isoformat(),
                         "usage_m3": f"0.{200 + 7 * n:03d}"} for n in range(30)]
            assert import_readings(city, csv_text(READING_COLUMNS, readings).encode()).ok
            member = Member(email=email, login_id=login_id if city.login_mode == "login_id" else None,
                            nickname="風連花子", password_hash=hash_password(PASSWORD),
                            data_visible_from=dt.date(2026, 1, 1))
            db.session.add(member)
            db.session.flush()
            contract_id = db.session.scalar(select(Contract.id).where(Contract.customer_number == number))
            db.session.add(MemberContract(member_id=member.id, contract_id=contract_id))
            db.session.commit()
            identifier = email if city.login_mode == "email" else login_id
        issue_all(city)  # the bill PDFs, as the worker issues them after the import (billing.issuing)
    return identifier, number, rows
