"""``/admin/vendor-login``: the city's end of a one-time link from the vendor console.

A GET because the browser arrives by redirect from the vendor host, which cannot carry
this city's CSRF token; the key is random, single use, short-lived and bound to this city
(vendor_console/links.py), which is what a CSRF token would add. The key is never logged and the
response carries ``Referrer-Policy: same-origin`` (blueprint headers).
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for

from waterportal.admin.blueprint import admin
from waterportal.admin.sessions import start_staff_session
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant
from waterportal.vendor_console.links import LinkRefused, claim_city_link


@admin.get("/vendor-login")
def vendor_login():
    """Claim the link's key and start a staff session of this city for the vendor."""
    try:
        staff = claim_city_link(current_tenant(), request.args.get("key", ""), client_address())
    except LinkRefused as exc:
        db.session.commit()  # the claimed key and the audit entry of a refusal stay
        flash(exc.message, "error")
        return redirect(url_for("admin.login"))
    start_staff_session(staff, client_address())  # ends this browser's older staff session
    db.session.commit()
    return redirect(url_for("admin.index"))
