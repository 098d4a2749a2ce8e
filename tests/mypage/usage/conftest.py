"""Fixtures of the member page tests: bills imported through the real import service,
members linked to their contracts, logging in through the real form."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from tests.imports.helpers import bill_row, contract_row, csv_text
from waterportal.billing.issuing import issue_pending
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context

JST = ZoneInfo("Asia/Tokyo")
PASSWORD = "Passw0rd!x"


def months_back(newest: str, count: int, step: int) -> list[str]:
    """``count`` billing months ending at ``newest`` every ``step`` months, oldest first."""
    year, month = map(int, newest.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - step * (count - 1), index + 1, step)]


def history_rows(number: str, count: int, *, newest: str = "2026-10", step: int = 1, base: int = 0) -> list[dict]:
    """``count`` valid bills for ``number``; the i-th (oldest = 0) has usage 10+i+base m³,
    water 2,000+37i, sewer 1,000+11i yen and is paid, except the newest (unpaid)."""
    rows = []
    reading = 1000
    months = months_back(newest, count, step)
    for i, month in enumerate(months):
        usage = 10 + i + base
        year, mon = map(int, month.split("-"))
        water, sewer = 2000 + 37 * i + base, 1000 + 11 * i
        total = water + sewer
        paid = "" if i == len(months) - 1 else f"{year:04d}-{mon:02d}-25"
        rows.append(bill_row(
            number, month, period_start=f"{year:04d}-{mon:02d}-01", period_end=f"{year:04d}-{mon:02d}-20",
            reading_date=f"{year:04d}-{mon:02d}-20", previous_reading=str(reading),
            current_reading=str(reading + usage), usage_m3=str(usage), water_charge=str(water),
            sewer_charge=str(sewer), tax=str(total * 10 // 110), total=str(total),
            due_date=f"{year:04d}-{mon:02d}-28", paid_on=paid,
        ))
        reading += usage
    return rows


@pytest.fixture
def load(app):
    """``load(city, contracts=[row...], bills=[row...])``: import CSVs through the real services, commit."""

    def run(tenant, contracts=(), bills=()):
        with app.app_context(), tenant_context(tenant):
            results = []
            if contracts:
                data = csv_text(CONTRACT_COLUMNS, list(contracts)).encode()
                results.append(import_contracts(tenant, data, filename="contracts.csv"))
            if bills:
                data = csv_text(BILL_COLUMNS, list(bills)).encode()
                results.append(import_bills(tenant, data, filename="bills.csv"))
            db.session.commit()
            assert all(r.ok for r in results), [r.errors for r in results]
            issue_all(tenant)  # what the worker does with the import's bill_pdfs job
            return results

    return run


@pytest.fixture
def customer(app, load, make_member):
    """``customer(city, numbers, bills=..., email=...)`` -> member id linked to those contracts.

    The contracts are imported (``contract_row``) with the given bill rows; the member may
    see data at once (data_visible_from in the past).
    """

    def make(tenant, numbers, bills=(), email="hanako@example.jp", login_id=None, **member_fields):
        with app.app_context(), tenant_context(tenant):
            known = set(db.session.scalars(select(Contract.customer_number)))
        new = [contract_row(n, holder_name="風連 花子", address=f"テスト町{n[-3:]}番地") for n in numbers if n not in known]
        load(tenant, contracts=new, bills=bills)
        if tenant.login_mode == "login_id" and login_id is None:
            login_id = email.split("@")[0] + "-id"
        member_fields.setdefault("data_visible_from", dt.date(2026, 1, 1))
        member_id = make_member(tenant, email=email, login_id=login_id, nickname=member_fields.pop("nickname", "花子"),
                                **member_fields)
        with app.app_context(), tenant_context(tenant):
            for number in numbers:
                contract_id = db.session.scalar(select(Contract.id).where(Contract.customer_number == number))
                db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
            db.session.commit()
        return member_id

    return make


@pytest.fixture
def login():
    """``login(client, city, "hanako@example.jp")`` through the real form (login ID cities: the ID)."""

    def submit(client, tenant, email="hanako@example.jp", login_id=None):
        identifier = email if tenant.login_mode == "email" else (login_id or email.split("@")[0] + "-id")
        response = client.submit("/login", {"identifier": identifier, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return submit


@pytest.fixture
def bill_ids(app):
    """``bill_ids(city, number)`` -> {billing_month: bill id} of that contract."""

    def read(tenant, number):
        with app.app_context(), tenant_context(tenant):
            rows = db.session.execute(
                select(Bill.billing_month, Bill.id).join(Contract, Contract.id == Bill.contract_id)
                .where(Contract.customer_number == number)
            ).all()
            return dict(rows)

    return read


@pytest.fixture
def count_statements(app):
    """``with count_statements() as seen: ...`` -> seen is the list of SQL statements executed."""
    import contextlib

    @contextlib.contextmanager
    def counting():
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


def issue_all(tenant) -> int:
    """Issue every pending bill PDF of ``tenant`` as the worker's job would (commits)."""
    issued = 0
    with tenant_context(tenant):
        more = True
        while more:
            count, more = issue_pending(tenant, utcnow_naive())
            issued += count
        db.session.commit()
    return issued
