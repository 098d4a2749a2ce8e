"""Ids in URLs beyond their column's range are a 404, not an overflow error: ``<int:...>``
(a 32-bit table's id) stops at 2**31 - 1, ``<bigint:...>`` (core/ids.py BIG_ID) at 2**63 - 1."""
from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql

from waterportal.core.ids import BIG_ID_MAX, INT_ID_MAX, DatabaseBigInt, DatabaseInt
from waterportal.extensions import db

HUGE = "99999999999999999999"
# URL arguments that are the id of a 64-bit table, and that table.
WIDE = {"bill_id": "bills", "issued_id": "bill_documents", "certificate_id": "payment_proofs",
        "document_id": "documents", "contract_id": "contracts"}
# Past 2**31 (PostgreSQL's INTEGER), within, at and past 2**63 - 1, far past it, not digits.
TEN_DIGITS = str(3_000_000_000)
BEYOND = (TEN_DIGITS, str(2**31), str(BIG_ID_MAX), str(BIG_ID_MAX + 1), "9" * 5000, "0" * 30 + "7", "12a", "-1")


@pytest.mark.parametrize(
    "path",
    [f"/mypage/bills/{HUGE}", f"/mypage/bills/{HUGE}/pdf", f"/mypage/documents/{HUGE}", f"/mypage/contracts/{HUGE}/label",
     f"/mypage/bill-documents/{HUGE}", f"/mypage/certificates/{HUGE}", f"/mypage/bills/{HUGE}/slip",
     f"/mypage/bills/{HUGE}/slip.pdf", f"/mypage/bills/{HUGE}/barcode.svg", f"/mypage/bills/{HUGE}/pay",
     f"/mypage/bills/history/{HUGE}.csv"],
)
def test_huge_ids_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_every_int_argument_is_bounded_by_its_column(app):
    from werkzeug.routing import IntegerConverter

    int_args = [
        (rule.rule, name, converter)
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter)
    ]
    assert len(int_args) >= 20
    wide = [(rule, name) for rule, name, converter in int_args if isinstance(converter, DatabaseBigInt)]
    assert {name for _, name in wide} == set(WIDE), wide
    for rule, name, converter in int_args:
        if name in WIDE:  # a 64-bit table's id: bigint, and the table's id is BIGINT on PostgreSQL
            assert type(converter) is DatabaseBigInt and converter.max == BIG_ID_MAX, rule
            column = db.metadata.tables[WIDE[name]].c.id
            assert column.type.compile(dialect=postgresql.dialect()) == "BIGINT", rule
        else:
            assert type(converter) is DatabaseInt and converter.max == INT_ID_MAX, (rule, name)


@pytest.fixture
def member_client(app, nayoro, client_for, make_contract, make_member):
    """A member of Nayoro linked to one contract, logged in through the real form."""
    from waterportal.contracts.models import MemberContract
    from waterportal.tenancy.context import tenant_context

    contract_id = make_contract(nayoro)
    member_id = make_member(nayoro, email="hanako@example.jp", login_id="hanako-id")
    with app.app_context(), tenant_context(nayoro):
        db.session.add(MemberContract(member_id=member_id, contract_id=contract_id))
        db.session.commit()
    client = client_for("nayoro")
    identifier = "hanako@example.jp" if nayoro.login_mode == "email" else "hanako-id"
    assert client.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
    return client


@pytest.fixture
def admin_client(app, nayoro, client_for):
    """A city admin of Nayoro, logged in through the real form."""
    from tests.admin.conftest import STAFF_PASSWORD, login_staff
    from waterportal.admin.models import StaffMember
    from waterportal.core.auth.passwords import hash_password
    from waterportal.tenancy.context import tenant_context

    with app.app_context(), tenant_context(nayoro):
        db.session.add(StaffMember(email="ids@example.jp", role="admin", name="水道 管理",
                                   password_hash=hash_password(STAFF_PASSWORD)))
        db.session.commit()
    client = client_for("nayoro")
    assert login_staff(client, "ids@example.jp").status_code == 302
    return client


@pytest.mark.parametrize("value", BEYOND)
def test_ids_past_the_columns_range_are_not_found_for_a_member(member_client, value):
    """Logged in, so the id reaches the view (and its query) whenever the converter lets it:
    a 10-digit bill id (beyond 2**31) is looked up as a BIGINT and not found; a 32-bit
    table's id past 2**31 - 1 never reaches PostgreSQL's INTEGER; past 2**63 - 1 neither."""
    for path in (f"/mypage/bills/{value}", f"/mypage/bills/{value}/pdf", f"/mypage/bill-documents/{value}",
                 f"/mypage/documents/{value}", f"/mypage/certificates/{value}", f"/mypage/bills/{value}/slip",
                 f"/mypage/bills/{value}/slip.pdf", f"/mypage/bills/{value}/barcode.svg",
                 f"/mypage/bills/{value}/pay", f"/mypage/bills/history/{value}.csv", f"/mypage/alerts/{value}",
                 f"/mypage/contracts/{value}/label"):
        assert member_client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", (TEN_DIGITS, str(BIG_ID_MAX), str(BIG_ID_MAX + 1), "9" * 5000))
def test_ids_past_the_columns_range_are_not_found_in_the_console(admin_client, value):
    for path in (f"/admin/members/{value}", f"/admin/members/{value}/documents/{value}",
                 f"/admin/procedures/{value}", f"/admin/imports/{value}", f"/admin/inquiries/{value}",
                 f"/admin/area-alerts/{value}"):
        assert admin_client.get(path).status_code == 404, path
