"""The staff's copy of a 口座振替依頼書 (各種お手続き → 口座振替の申込み): the same prefilled
one-page PDF the citizen prints (the account number masked), downloaded from the request's
page in the console, audited like a file of the request. (The page shows the link when
``has_debit_sheet(item)``, the template global of ``procedures/bank_views.py``.)"""
from __future__ import annotations

from flask import abort, g
from sqlalchemy import select

from waterportal.admin.blueprint import admin
from waterportal.admin.sessions import staff_required
from waterportal.audit import services as audit
from waterportal.core.files import private_download
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.procedures.debit_pdf import debit_pdf, is_debit, sheet_filename, sheet_for
from waterportal.procedures.models import ProcedureRequest
from waterportal.tenancy.context import current_tenant


@admin.get("/procedures/<int:request_id>/debit.pdf")
@staff_required()
def procedure_debit_sheet(request_id: int):
    """The request's 口座振替依頼書 as a download, audited."""
    tenant = current_tenant()
    item = db.session.scalar(select(ProcedureRequest).where(
        ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.id == request_id))
    if item is None or not is_debit(item):
        abort(404)
    sheet = sheet_for(tenant, item)
    audit.record(g.staff.actor, "procedure.debit_sheet_downloaded", target=f"procedure:{item.id}",
                 remote_addr=client_address(), receipt_number=item.receipt_number)
    db.session.commit()
    return private_download(debit_pdf(sheet), sheet_filename(sheet), "application/pdf")
