"""Console home and the staff member's own account page; imports every console view module.

``app.register_blueprints`` registers :data:`admin` from here.
"""
from __future__ import annotations

from flask import g

from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.core.time import utcnow
from waterportal.notices.services import visible_notices


@admin.get("/")
@staff_required()
def index():
    """管理画面トップ: what the city shows its members now, and the staff member's tasks."""
    tenant = g.tenant
    notices = visible_notices(tenant, utcnow())
    return render("index.html", title="管理画面トップ", notices=notices[:5], notice_count=len(notices))


@admin.get("/account")
@staff_required()
def account():
    """アカウント: name, role, second factor status, links to change them."""
    return render("account.html", title="アカウント", form=ActionForm())


# Route modules attach themselves to the blueprint on import.
from waterportal.admin import (  # noqa: E402,F401
    audit_views,
    imports_views,
    inquiries_views,
    login_views,
    notices_views,
    vendor_login,
)
from waterportal.admin.members import views as members_views  # noqa: E402,F401
from waterportal.admin.settings import views as settings_views  # noqa: E402,F401
from waterportal.admin.staff import views as staff_views  # noqa: E402,F401
