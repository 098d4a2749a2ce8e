"""Blueprint ``inquiry``: 「メールでのお問い合わせ」, open to everyone, prefilled for members."""
from __future__ import annotations

from flask import redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from waterportal.contracts.selection import selected_contract
from waterportal.core.web import client_address, throttled_response
from waterportal.extensions import db
from waterportal.inquiries.blueprint import inquiry
from waterportal.inquiries.forms import BODY_MAX, InquiryForm
from waterportal.inquiries.services import (
    InquiryThrottled,
    submit_inquiry,
    throttle_message,
)
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.templating import render_page

SENT_KEY = "inquiry_sent"
TITLE = _l("メールでのお問い合わせ")


def _member():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _member_customer_number(member) -> str:
    """The お客様番号 a member's inquiry is most likely about: the one they are viewing."""
    selected = selected_contract(member)
    return selected.customer_number if selected is not None else ""


@inquiry.route("", methods=["GET", "POST"])
def new():
    """The form; a valid POST stores the inquiry, mails the city and the citizen."""
    tenant: TenantContext = current_tenant()
    member = _member()
    data = None
    if request.method == "GET" and member is not None:
        data = {"name": member.nickname, "email": member.email, "customer_number": _member_customer_number(member)}
    form = InquiryForm(tenant, data=data)
    alert, wait = None, 0
    if form.validate_on_submit():
        try:
            sent = submit_inquiry(
                tenant, name=form.name.data, email=form.email.data, customer_number=form.customer_number.data or "",
                category=form.category.data, subject=form.subject.data, body=form.body.data, member=member,
                remote_addr=client_address(),
            )
        except InquiryThrottled as exc:
            alert, wait = throttle_message(exc.seconds), exc.seconds
        else:
            db.session.commit()
            session[SENT_KEY] = sent.reference
            return redirect(url_for(".sent"))
    body = render_page("inquiry/new.html", title=TITLE, form=form, alert=alert, member=member, body_max=BODY_MAX)
    return throttled_response(body, wait) if wait else body


@inquiry.get("/sent")
def sent():
    """受付完了: the 受付番号 and what happens next (once; a reload goes back to the form)."""
    reference = session.pop(SENT_KEY, None)
    if not reference:
        return redirect(url_for(".new"))
    return render_page("inquiry/sent.html", title=TITLE, reference=reference, member=_member())
