"""`make demo-data` publishes one area alert per city (issue 14 §4) that reaches the demo member:
the banner on the dashboard now, the mail through the worker; once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.clock import DAYTIME
from waterportal.accounts.models import Member
from waterportal.alerts.services import member_alerts
from waterportal.core.time import utcnow_naive
from waterportal.demo.alerts import DEMO_ALERTS
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city, write_city
from waterportal.demo.members import ensure_demo_member
from waterportal.extensions import db
from waterportal.imports.services import import_contracts
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def mailed(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "area_alert")))


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_demo_alert_reaches_the_demo_member_once(app_ctx, runner, tmp_path, slug):
    tenant = get_registry().by_slug(slug)
    contracts, _bills = write_city(tmp_path, generate_city(PROFILES[slug], tenant.settings, 300, 3, DAYTIME.date()))
    assert import_contracts(tenant, contracts, filename="contracts.csv", actor="test").ok
    spec, _created = ensure_demo_member(tenant, DAYTIME.date())
    db.session.commit()

    result = runner.invoke(args=["demo", "alerts", "--tenant", slug])
    assert result.exit_code == 0, result.output
    assert f"{slug}: area alert 「{DEMO_ALERTS[slug].title}」" in result.output and "1 member(s)" in result.output
    with tenant_context(tenant):
        member = db.session.scalar(select(Member).where(Member.email == spec.email))
        assert [a.title for a in member_alerts(tenant, member.id, utcnow_naive())] == [DEMO_ALERTS[slug].title]
    assert mailed(tenant) == []  # the command records the job; the worker writes the mail
    assert expand_due() == 1
    assert mailed(tenant) == [spec.email]

    again = runner.invoke(args=["demo", "alerts", "--tenant", slug])
    assert again.exit_code == 0 and "the city has area alerts already" in again.output
    assert expand_due() == 0
