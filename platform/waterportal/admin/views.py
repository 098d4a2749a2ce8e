"""Console home and the staff member's own account page.

The blueprint is :data:`waterportal.admin.blueprint.admin`; ``app.register_blueprints``
imports this and every other console view module.
"""
from __future__ import annotations

from sqlalchemy import func, select

from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.core.time import utcnow
from waterportal.extensions import db
from waterportal.notices.services import visible_notices
from waterportal.procedures.models import OPEN_STATUSES, ProcedureRequest
from waterportal.tenancy.context import current_tenant


@admin.get("/")
@staff_required()
def index():
    """管理画面トップ: what the city shows its members now, and the staff member's tasks."""
    tenant = current_tenant()
    notices = visible_notices(tenant, utcnow())
    open_procedures = db.session.scalar(select(func.count(ProcedureRequest.id)).where(
        ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.status.in_(OPEN_STATUSES))) or 0
    return render("index.html", title="管理画面トップ", notices=notices[:5], notice_count=len(notices),
                  open_procedures=open_procedures)


@admin.get("/account")
@staff_required()
def account():
    """アカウント: name, role, second factor status, links to change them."""
    return render("account.html", title="アカウント", form=ActionForm())

