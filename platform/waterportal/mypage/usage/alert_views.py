"""Route of ``portal`` for area alerts (issue 14 §4): the page an alert's banner on the
dashboard links to, shown only to a member with a contract in its area, during its period."""
from __future__ import annotations

from flask import abort
from flask_login import current_user, login_required

from waterportal.alerts import services
from waterportal.core.i18n import current_language
from waterportal.core.time import utcnow_naive
from waterportal.mypage.usage.blueprint import portal
from waterportal.mypage.usage.views import member_page, render_member
from waterportal.notices.services import autolink
from waterportal.tenancy.context import current_tenant


@portal.app_template_global("alert_kind")
def alert_kind(kind: str) -> str:
    """The kind's name (断水, 濁水, 工事, その他) in the page's language."""
    return str(services.KINDS.get(kind, kind))


@portal.app_template_global("alert_period")
def alert_period(alert) -> str:
    """The alert's period in the city's time, in the page's language."""
    return services.period_text(alert, current_tenant().timezone)


@portal.app_template_global("current_area_alerts")
def current_area_alerts() -> list:
    """The logged-in member's alerts now (the dashboard's banner) in the page's language: one
    statement, and one more for their texts when there are alerts and the page is not Japanese."""
    return services.alerts_in(services.member_alerts(current_tenant(), current_user.id, utcnow_naive()),
                              current_language())


@portal.get("/alerts/<int:alert_id>")
@login_required
def area_alert(alert_id: int):
    """One area alert in full (kind, title, period, text); 404 when it is not the member's now."""
    page = member_page()
    alert = services.member_alert(page.tenant, page.member.id, alert_id, utcnow_naive())
    if alert is None:
        abort(404)
    [alert] = services.alerts_in([alert], current_language())
    return render_member("portal/area_alert.html", page, title=alert.title, alert=alert,
                         autolink=autolink)
