"""The 漏水の可能性 notice on the member pages (issue 14 §1): ``leak_notice(bill)`` draws it for
a bill the bills import flagged (billing.leaks), with what to check and, where the city takes
漏水減額 applications online, the link to the form. The dashboard passes the contract's latest
bill only, so the notice leaves the dashboard with the next bill; the bill's page keeps it."""
from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from waterportal.billing.leaks import bill_alert
from waterportal.billing.models import Bill
from waterportal.mypage.usage.blueprint import portal
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.templating import city_template

LEAK_FORM = "leak_reduction"  # procedures/catalog/leak_reduction.py


@portal.app_template_global("leak_notice")
def leak_notice(bill: Bill | None) -> Markup:
    """The notice of ``bill`` if it was flagged, else nothing: one statement (the alert's unique key)."""
    if bill is None or bill.leak_flagged_at is None:  # no statement for a bill never flagged
        return Markup("")
    alert = bill_alert(bill.id)
    if alert is None:
        return Markup("")
    tenant = current_tenant()
    offered = LEAK_FORM in tenant.settings["procedures"]["enabled"]
    reduction_url = url_for("procedures.new", kind=LEAK_FORM) if offered else None
    html = city_template(tenant, "portal/_leak_notice.html").render(bill=bill, alert=alert, reduction_url=reduction_url)
    return Markup(html)  # noqa: S704 - an autoescaped template's output
