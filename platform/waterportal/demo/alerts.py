"""One area alert (断水・濁水・工事, issue 14 §4) per demo city, on the demo member's street, so a
tester sees the dashboard's banner and its mail at once. Published through the console's
service (audited, the mail left to the outbox worker), once: a city with alerts is left alone."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from waterportal.alerts.models import AreaAlert
from waterportal.alerts.services import publish_alert
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, tenant_context


@dataclass(frozen=True)
class DemoAlert:
    """What the demo publishes: the kind, the words and the streets (the demo member's first)."""

    kind: str
    title: str
    body: str
    areas: tuple[str, ...]
    days: int  # shown from an hour ago for this many days


DEMO_ALERTS: dict[str, DemoAlert] = {
    "nayoro": DemoAlert(
        "outage", "配水管工事に伴う断水のお知らせ",
        "配水管の更新工事のため、対象地区で断水します。断水の前に、飲み水やトイレ用の水をくみ置きしてください。\n"
        "断水の終了後、しばらく濁った水が出ることがあります。透明になるまで蛇口から流してからお使いください。",
        ("西4条南7丁目", "西4条南8丁目"), 3),
    "kanazawa": DemoAlert(
        "turbid", "水道管洗浄作業に伴う濁り水のおそれ",
        "水道管の洗浄作業のため、対象地区で一時的に水が濁ることがあります。濁りが続く場合は、"
        "しばらく蛇口から水を流してからお使いください。それでも治まらない場合はお問い合わせ窓口へご連絡ください。",
        ("広坂1丁目", "広坂2丁目"), 2),
}


def seed_area_alert(tenant: TenantContext, now: dt.datetime) -> AreaAlert | None:
    """Publish the city's demo alert (flushed; the caller commits) unless the city has one; it
    reaches the members with a contract on its streets (the demo member among them)."""
    spec = DEMO_ALERTS[tenant.slug]
    with tenant_context(tenant):
        if db.session.scalar(select(func.count(AreaAlert.id))):
            return None
        start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
        return publish_alert(tenant, "demo", kind=spec.kind, title=spec.title, body=spec.body, starts_at=start,
                             ends_at=start + dt.timedelta(days=spec.days), areas=list(spec.areas))
