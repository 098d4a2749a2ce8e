"""Issue 14 §1 "Done when": one demo household per city gets a leak notice and its mail.

The demo member's contract (名寄: 00012345682, 金沢: 0100012345) has a jump in its newest bill
(``Household.leak_m3``); the demo export loaded by the real imports flags it, the demo member
(registered "earlier", as `flask demo members` does) gets the mail when the worker runs."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from waterportal.billing.leaks import BillAlert
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city, write_city
from waterportal.demo.members import DEMO_MEMBERS, ensure_demo_member
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

TODAY = dt.date(2026, 11, 18)  # the suite's clock (tests/clock.py)


@pytest.mark.parametrize(("slug", "number", "month"), [("nayoro", "00012345682", "令和8年10月"),
                                                         ("kanazawa", "0100012345", "2026年09月")])
def test_the_demo_member_gets_a_leak_notice_and_its_mail(app_ctx, nayoro, kanazawa, tmp_path, slug, number, month):
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    contracts, bills = write_city(tmp_path, generate_city(PROFILES[slug], tenant.settings, 40, 26, TODAY))
    assert import_contracts(tenant, contracts, filename="contracts.csv", actor="test").ok
    assert import_bills(tenant, bills, filename="bills.csv", actor="test").ok
    spec, _created = ensure_demo_member(tenant, TODAY)
    db.session.commit()
    with tenant_context(tenant):
        flagged = db.session.execute(
            select(Contract.customer_number, Bill.billing_month, BillAlert.usage_m3, BillAlert.last_year_m3)
            .join(Bill, Bill.id == BillAlert.bill_id).join(Contract, Contract.id == BillAlert.contract_id)).all()
        newest = db.session.scalar(select(Bill.billing_month).join(Contract, Contract.id == Bill.contract_id)
                                   .where(Contract.customer_number == number).order_by(Bill.billing_month.desc()))
    demo = [row for row in flagged if row.customer_number == number]
    assert [(row.billing_month, row.usage_m3 >= 1.5 * row.last_year_m3) for row in demo] == [(newest, True)]
    assert expand_due() >= 1
    with tenant_context(tenant):
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "leak_notice",
                                                               OutboxMessage.to_address == spec.email)).all()
    assert [m.subject.rpartition("(")[2] for m in mails] == [f"{month}分)"]
    assert DEMO_MEMBERS[slug].customer_numbers[0] == number
