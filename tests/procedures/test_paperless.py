"""検針票 ペーパーレス: the first billing month it applies to, consent, no change to the state a
contract already has, and the state the contracts page shows."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.procedures.kinds_support import MY_KINDS, file, member_with_contract, with_kinds, with_setting
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.procedures import paperless_state, services
from waterportal.procedures.kinds import ProcedureInvalid
from waterportal.procedures.models import STATUS_COMPLETED, STATUS_IN_PROGRESS, STATUS_RETURNED
from waterportal.procedures.services import ProcedureUnavailable

TODAY = dt.date(2026, 11, 18)
OPT_IN = {"choice": paperless_state.OPT_IN, "consent": "y"}
OPT_OUT = {"choice": paperless_state.OPT_OUT}


@pytest.mark.parametrize(("cycle", "latest", "today", "expected"), [
    ("monthly", None, TODAY, "2026-12"),  # no bill yet: next month
    ("monthly", "2026-11", TODAY, "2026-12"),
    ("monthly", "2026-08", TODAY, "2026-12"),  # bills stopped a while ago: still after this month
    ("monthly", "2026-12", dt.date(2026, 12, 31), "2027-01"),  # across the year
    ("bimonthly", "2026-11", TODAY, "2027-01"),  # this month's bill is out: the one after next
    ("bimonthly", "2026-10", TODAY, "2026-12"),
    ("bimonthly", "2026-05", TODAY, "2027-01"),  # keeps the contract's odd months
    ("bimonthly", "2026-06", TODAY, "2026-12"),  # and even months
])
def test_next_billing_month(nayoro, cycle, latest, today, expected):
    tenant = with_setting(nayoro, "billing", cycle=cycle)
    assert paperless_state.next_billing_month(tenant, latest, today) == expected


def test_month_text():
    assert paperless_state.month_text("2026-09") == "2026年09月分"


@pytest.fixture
def filer(app, nayoro, make_member, make_contract, monkeypatch):
    tenant = with_kinds(nayoro, *MY_KINDS)
    months = {}
    monkeypatch.setitem(app.extensions, paperless_state.BILL_MONTHS, months.get)
    with member_with_contract(app, make_member, make_contract, tenant) as (member, contract):
        yield (lambda payload: file(tenant, "paperless", payload, member, contract, today=TODAY)), tenant, contract, months


def errors_of(submit, payload):
    with pytest.raises(ProcedureInvalid) as caught:
        submit(payload)
    return caught.value.errors


def test_opt_in_applies_from_the_next_billing_month(filer):
    submit, tenant, contract, months = filer
    months[contract.id] = "2026-11"
    request = submit(OPT_IN)
    assert request.payload == {"choice": paperless_state.OPT_IN, "consent": True, "effective_month": "2026-12"}
    rows = dict(services.summary(tenant, request))
    assert rows["適用開始"] == "2026年12月分から"
    assert "同意" in rows


def test_opt_in_needs_consent(filer):
    errors = errors_of(filer[0], {"choice": paperless_state.OPT_IN})
    assert "同意が必要" in errors["consent"][0]


def test_the_state_follows_the_requests(filer):
    submit, tenant, contract, _ = filer
    state = paperless_state.states(tenant, [contract.id])[contract.id]
    assert not state.paperless and state.pending is None and state.text == "紙の検針票を郵送"
    # Already paper: asking for paper again is refused.
    assert "すでに紙の検針票" in errors_of(submit, OPT_OUT)["choice"][0]
    request = submit(OPT_IN)
    state = paperless_state.states(tenant, [contract.id])[contract.id]
    assert state.pending is request and "ペーパーレスへの切替: 受付" in state.text and request.receipt_number in state.text
    # While one is being processed, another is refused (naming the receipt number).
    assert request.receipt_number in errors_of(submit, OPT_OUT)["choice"][0]
    services.change_status(tenant, request, STATUS_IN_PROGRESS, "", "staff:1")
    assert request.receipt_number in errors_of(submit, OPT_OUT)["choice"][0]
    services.change_status(tenant, request, STATUS_COMPLETED, "", "staff:1")
    state = paperless_state.states(tenant, [contract.id])[contract.id]
    assert state.paperless and state.pending is None
    assert state.text == "ペーパーレス（会員さま専用サイトでご確認） 2026年12月分から"
    assert "すでにペーパーレス" in errors_of(submit, OPT_IN)["choice"][0]
    back = submit(OPT_OUT)
    assert back.payload["consent"] is False
    services.change_status(tenant, back, STATUS_COMPLETED, "", "staff:1")
    assert not paperless_state.states(tenant, [contract.id])[contract.id].paperless


def test_a_returned_request_can_be_resubmitted(filer):
    submit, tenant, contract, _ = filer
    request = submit(OPT_IN)
    services.change_status(tenant, request, STATUS_RETURNED, "同意の内容をご確認ください。", "staff:1")
    state = paperless_state.states(tenant, [contract.id])[contract.id]
    assert "差戻し" in state.text
    member = db.session.get(Member, request.member_id)
    again = services.resubmit(tenant, request, OPT_IN, member=member, today=TODAY)
    assert again.status == "received"


def test_withdrawn_requests_do_not_count(filer):
    submit, tenant, contract, _ = filer
    request = submit(OPT_IN)
    member = db.session.get(Member, request.member_id)
    services.withdraw(tenant, request, member)
    state = paperless_state.states(tenant, [contract.id])[contract.id]
    assert state == paperless_state.PaperlessState(paperless=False)
    assert submit(OPT_IN).id != request.id


def test_states_of_no_contracts_is_empty(nayoro, app_ctx):
    assert paperless_state.states(nayoro, []) == {}


def test_a_city_without_paperless_refuses_it(filer):
    """Kanazawa's demo settings leave paperless out: the service refuses it like any kind
    the city does not offer."""
    submit, tenant, contract, _ = filer
    member = db.session.get(Member, submit(OPT_IN).member_id)
    closed = with_kinds(tenant, "holder_change")
    with pytest.raises(ProcedureUnavailable):
        services.submit_procedure(closed, "paperless", OPT_OUT, member=member, contract=contract)


def test_the_app_hands_over_the_latest_bill(app, nayoro, make_member, make_contract):
    """Without the test's stand-in: the month comes from the contract's bills (billing)."""
    from waterportal.billing.models import Bill
    from waterportal.billing.queries import latest_billing_month

    assert app.extensions[paperless_state.BILL_MONTHS] is latest_billing_month
    tenant = with_kinds(nayoro, *MY_KINDS)
    with member_with_contract(app, make_member, make_contract, tenant) as (member, contract):
        for month in ("2026-09", "2026-11", "2026-10"):
            day = dt.date(int(month[:4]), int(month[5:]), 1)
            db.session.add(Bill(contract_id=contract.id, billing_month=month, period_start=day, period_end=day,
                                reading_date=day, previous_reading=0, current_reading=10, usage_m3=10,
                                water_charge=1000, sewer_charge=500, tax=136, total=1500, due_date=day))
        db.session.flush()
        assert paperless_state.latest_bill_month(contract.id) == "2026-11"
        request = file(tenant, "paperless", OPT_IN, member, contract, today=TODAY)
        assert request.payload["effective_month"] == "2026-12"
        bimonthly = with_setting(tenant, "billing", cycle="bimonthly")
        services.withdraw(tenant, request, member)
        again = file(bimonthly, "paperless", OPT_IN, member, contract, today=TODAY)
        assert again.payload["effective_month"] == "2027-01"
