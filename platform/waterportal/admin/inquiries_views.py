"""お問い合わせ (every staff member): 「メールでのお問い合わせ」 of the city's citizens,
filtered by status, one by one, marked 回答済み (or back to 未対応), audited.

The inquiry itself was also mailed to the city's ``contact.inquiry_email``; staff answer
by mail or phone and record that here (inquiries/services.py).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import func, select

from waterportal.admin.audit_views import actor_names
from waterportal.admin.blueprint import admin, page_arg, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.members.forms import INQUIRY_FILTERS, InquiryFilterForm
from waterportal.admin.sessions import staff_required
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.inquiries import services
from waterportal.inquiries.models import STATUS_ANSWERED, STATUS_NEW, Inquiry
from waterportal.tenancy.context import current_tenant

PAGE_SIZE = 30


def _inquiry_or_404(inquiry_id: int) -> Inquiry:
    inquiry = services.get_inquiry(current_tenant(), inquiry_id)
    if inquiry is None:
        abort(404)
    return inquiry


@admin.get("/inquiries")
@staff_required()
def inquiries():
    """お問い合わせ一覧: newest first, filtered by 状態, paginated."""
    form = InquiryFilterForm(request.args)
    status = form.status.data if form.validate() else ""
    page = page_arg()
    query = select(Inquiry).where(Inquiry.tenant_id == current_tenant().id)
    if status:
        query = query.where(Inquiry.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Inquiry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render(
        "inquiries.html", title="お問い合わせ", form=form, status=status, items=rows, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), new_count=services.count_new(current_tenant()), filters=INQUIRY_FILTERS,
    )


@admin.get("/inquiries/<int:inquiry_id>")
@staff_required()
def inquiry_detail(inquiry_id: int):
    """One inquiry as the citizen wrote it, with who answered it and when."""
    inquiry = _inquiry_or_404(inquiry_id)
    return render("inquiry.html", title=f"お問い合わせ {inquiry.reference}", inquiry=inquiry, form=ActionForm(),
                  names=actor_names())


@admin.post("/inquiries/<int:inquiry_id>/answered")
@staff_required()
def inquiry_answered(inquiry_id: int):
    """Mark 回答済み (who and when are recorded and audited)."""
    inquiry = _inquiry_or_404(inquiry_id)
    if inquiry.status != STATUS_ANSWERED:
        services.mark_answered(current_tenant(), inquiry, g.staff.actor, client_address())
        db.session.commit()
    flash(f"{inquiry.reference} を回答済みにしました。", "info")
    return redirect(url_for("admin.inquiry_detail", inquiry_id=inquiry.id))


@admin.post("/inquiries/<int:inquiry_id>/reopen")
@staff_required()
def inquiry_reopen(inquiry_id: int):
    """Back to 未対応 (audited)."""
    inquiry = _inquiry_or_404(inquiry_id)
    if inquiry.status != STATUS_NEW:
        services.reopen(current_tenant(), inquiry, g.staff.actor, client_address())
        db.session.commit()
    flash(f"{inquiry.reference} を未対応に戻しました。", "info")
    return redirect(url_for("admin.inquiry_detail", inquiry_id=inquiry.id))
