"""`make demo` files a few 各種お手続き in several states in both cities, through the real
services, once, without mailing anyone."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.clock import DAYTIME
from waterportal.admin.settings.services import apply_overrides
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city, write_city
from waterportal.demo.members import DEMO_MEMBERS, ensure_demo_member
from waterportal.demo.procedures import SEEDS
from waterportal.demo.staff import DEMO_STAFF, ensure_demo_staff
from waterportal.extensions import db
from waterportal.imports.services import import_contracts
from waterportal.mail.models import OutboxMessage
from waterportal.procedures.kinds import get_kind
from waterportal.procedures.models import ProcedureEvent, ProcedureRequest
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

TODAY = DAYTIME.date()


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_procedures_fill_the_queue_once(app_ctx, runner, tmp_path, slug):
    tenant = get_registry().by_slug(slug)
    kinds = sorted({seed.kind for seed in SEEDS[slug]})
    assert all(get_kind(kind) for kind in kinds), "a seeded kind is not registered"
    with tenant_context(tenant):
        apply_overrides(tenant, {"procedures": {"enabled": kinds}}, actor="test")
        db.session.commit()
    tenant = get_registry().by_slug(slug)
    contracts_path, _bills = write_city(tmp_path, generate_city(PROFILES[slug], tenant.settings, 3, 3, TODAY))
    assert import_contracts(tenant, contracts_path, filename="contracts.csv", actor="test").ok
    ensure_demo_member(tenant, TODAY)
    for account in DEMO_STAFF:
        if account.city == slug:
            ensure_demo_staff(account)
    db.session.commit()

    result = runner.invoke(args=["demo", "procedures", "--tenant", slug])
    assert result.exit_code == 0, result.output
    assert f"{slug}: {len(SEEDS[slug])} demo procedure(s) filed" in result.output
    with tenant_context(tenant):
        requests = db.session.scalars(select(ProcedureRequest).order_by(ProcedureRequest.id)).all()
        assert [(r.kind, r.status) for r in requests] == [(s.kind, s.status) for s in SEEDS[slug]]
        member_email = DEMO_MEMBERS[slug].email
        assert {r.applicant_email for r in requests if r.member_id} == {member_email}
        assert all(r.receipt_number.startswith("R2026-") for r in requests)
        assert db.session.scalar(select(func.count(ProcedureEvent.id))) > len(requests)  # the status history
        processed = [r for r in requests if r.status != "received"]
        assert processed and all(r.assignee_id for r in processed)  # given to the demo operator
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all() == []

    again = runner.invoke(args=["demo", "procedures", "--tenant", slug])
    assert again.exit_code == 0 and "0 demo procedure(s) filed (the city has requests already)" in again.output
    with tenant_context(tenant):
        assert db.session.scalar(select(func.count(ProcedureRequest.id))) == len(SEEDS[slug])
