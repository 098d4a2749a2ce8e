"""An area alert (issue 14 §4) for the walks that need one of each city's ids."""
from __future__ import annotations

import datetime as dt

from waterportal.alerts.models import AreaAlert, AreaAlertArea
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context


def add_area_alert(app, tenant, contract_id: int, title: str = "既存の断水") -> int:
    """An alert on the street of ``contract_id``, shown all of November 2026; its id."""
    with app.app_context(), tenant_context(tenant):
        alert = AreaAlert(kind="outage", title=title, body="本文", starts_at=dt.datetime(2026, 11, 1),
                          ends_at=dt.datetime(2026, 12, 1), created_by="staff:1")
        db.session.add(alert)
        db.session.flush()
        db.session.add(AreaAlertArea(alert_id=alert.id, area=db.session.get(Contract, contract_id).address_area))
        db.session.commit()
        return alert.id
