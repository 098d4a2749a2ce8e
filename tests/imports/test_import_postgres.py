"""On PostgreSQL the load goes through COPY into a staging table and one upsert."""
from __future__ import annotations

import psycopg
import pytest

from tests.imports.helpers import NAYORO_NO, bill_row, bills_of, contract_row, contracts_of
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.fixture
def driver_statements(app, monkeypatch):
    """The COPY and plain statements psycopg runs (the real ones still run)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (TEST_DATABASE_URL)")
    seen: list[str] = []
    copy, execute = psycopg.Cursor.copy, psycopg.Cursor.execute

    def spy_copy(self, statement, *args, **kwargs):
        seen.append(str(statement))
        return copy(self, statement, *args, **kwargs)

    def spy_execute(self, query, *args, **kwargs):
        seen.append(query if isinstance(query, str) else repr(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy_copy)
    monkeypatch.setattr(psycopg.Cursor, "execute", spy_execute)
    return seen


def test_contracts_and_bills_load_through_copy_and_one_upsert(nayoro, contracts_csv, bills_csv, driver_statements):
    result = import_contracts(nayoro, contracts_csv([contract_row(NAYORO_NO), contract_row("01234567891")]),
                              actor="test")
    assert result.ok, result.errors
    bills = [bill_row(NAYORO_NO, f"2026-{m:02d}") for m in range(1, 10)]
    assert import_bills(nayoro, bills_csv(bills), actor="test").ok
    db.session.commit()
    copies = [s for s in driver_statements if s.startswith("COPY")]
    assert len(copies) == 2
    assert copies[0] == ("COPY import_stage_contracts (customer_number, holder_name, holder_name_kana, phone, "
                         "address, meter_number, meter_diameter_mm, billing_cycle, persons, address_area) FROM STDIN")
    assert copies[1].startswith("COPY import_stage_bills (contract_id, billing_month, ")
    # The upsert is the body of a WITH that also stamps the contracts and counts (RETURNING).
    upserts = [s for s in driver_statements if "INSERT INTO bills" in s]
    assert len(upserts) == 1 and "FROM import_stage_bills ON CONFLICT (tenant_id, contract_id, billing_month)" in upserts[0]
    assert len(contracts_of(nayoro)) == 2 and len(bills_of(nayoro)) == 9
