"""Routes of ``portal`` for payments (issue 12 §3): the 収納済証明書 of a paid bill or of a
period, issued once and downloaded as stored; and the template helpers that show a bill's
payment details (支払方法, 振替予定日, 振替結果, 通信欄) on the member pages; the 電子納付書 of an open
bill (page, PDF, GS1-128 barcode) and the way to the city's online payment provider."""
from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from waterportal.billing import certificates, queries
from waterportal.billing.cycles import CYCLE_WORDS, contract_cycle
from waterportal.billing.payments import transfer_failure, transfer_status
from waterportal.billing.providers import provider_for
from waterportal.billing.slip import barcode_svg, parse
from waterportal.billing.slip_pdf import slip_filename, slip_pdf
from waterportal.core.files import private_download
from waterportal.core.i18n import shown_word
from waterportal.core.time import utcnow_naive
from waterportal.core.web import client_address, no_store
from waterportal.extensions import db
from waterportal.mypage.usage.blueprint import portal
from waterportal.mypage.usage.certificate_forms import PeriodForm
from waterportal.mypage.usage.views import member_page, render_member
from waterportal.tenancy.context import current_tenant

# The default 収納済証明書 title (tenancy/schemas.py), for the catalogues: the pages show the
# city's title through ``shown``, so a title the city wrote itself stays as written.
DEFAULT_CERTIFICATE_TITLE = _l("収納済証明書")

portal.add_app_template_global(transfer_failure, "transfer_failure")
portal.add_app_template_global(transfer_status, "transfer_status")


@portal.app_template_global("cycle_words")
def cycle_words(contract) -> str:
    """「毎月」 or 「2か月ごと」: the contract's billing cycle (its own or the city's)."""
    return CYCLE_WORDS[contract_cycle(current_tenant().settings, contract)]


def _bill_of(page, bill_id: int):
    """(bill, contract) of one of the member's contracts, or 404 (also while data is not visible yet)."""
    found = queries.member_bill(page.member.id, bill_id) if page.visible_from is None else None
    if found is None:
        abort(404)
    return found


def _issue(page, contract, month_from: str, month_to: str):
    certificate = certificates.issue_certificate(page.tenant, page.member.id, contract, month_from, month_to,
                                                 utcnow_naive(), client_address())
    db.session.commit()
    return redirect(url_for("portal.certificate", certificate_id=certificate.id), code=303)


@portal.post("/bills/<bigint:bill_id>/certificate")
@login_required
def bill_certificate(bill_id: int):
    """The 収納済証明書 of one paid bill: issued on the first request, the same file afterwards."""
    page = member_page()
    bill, contract = _bill_of(page, bill_id)
    if bill.paid_on is None:
        abort(409)
    return _issue(page, contract, bill.billing_month, bill.billing_month)


@portal.route("/certificates", methods=["GET", "POST"])
@login_required
def certificates_page():
    """収納済証明書: the certificates issued for the selected contract and a period to certify."""
    page = member_page()
    months = certificates.paid_months(page.contract_id) if page.shows_data else []
    form = PeriodForm(months=months)
    refused, status = None, 200
    if request.method == "POST":
        if not page.shows_data:
            abort(404)
        if form.validate_on_submit():
            try:
                return _issue(page, page.selected.contract, form.month_from.data, form.month_to.data)
            except certificates.CertificateRefused as exc:
                db.session.rollback()
                refused = str(exc)
        status = 422
    issued = certificates.member_certificates(page.member.id, page.contract_id) if page.shows_data else []
    return render_member("portal/certificates.html", page, title=shown_word(page.tenant.settings["payment"]["certificate_title"]),
                         form=form, months=months, issued=issued, refused=refused), status


@portal.get("/certificates/<bigint:certificate_id>")
@login_required
def certificate(certificate_id: int):
    """Download a certificate as issued; 404 unless it is of one of the member's contracts."""
    page = member_page()
    found = certificates.member_certificate(page.member.id, certificate_id) if page.visible_from is None else None
    if found is None:
        abort(404)
    certificates.record_download(page.member.id, found, client_address())
    db.session.commit()
    return private_download(found.data, found.filename, "application/pdf")


def _open_bill(bill_id: int):
    """The member's unpaid bill and its contract, or 404 (a paid bill has nothing to pay)."""
    page = member_page()
    bill, contract = _bill_of(page, bill_id)
    if bill.paid_on is not None:
        abort(404)
    return page, bill, contract


@portal.get("/bills/<bigint:bill_id>/slip")
@login_required
def slip(bill_id: int):
    """電子納付書: the amount, the due date, the city's payment channels, the convenience-store
    barcode (when the billing system sent one) and the online provider (when the city has one)."""
    page, bill, contract = _open_bill(bill_id)
    barcode = parse(bill.payment_barcode) if bill.payment_barcode else None
    return render_member("portal/slip.html", page, title=gettext("電子納付書"), bill=bill, contract=contract, barcode=barcode,
                         provider=provider_for(page.tenant.settings))


@portal.get("/bills/<bigint:bill_id>/slip.pdf")
@login_required
def slip_document(bill_id: int):
    """The 電子納付書 as a PDF (the barcode with its digits), drawn from the bill's data."""
    page, bill, contract = _open_bill(bill_id)
    return private_download(slip_pdf(page.tenant, contract, bill), slip_filename(contract, bill), "application/pdf")


@portal.get("/bills/<bigint:bill_id>/barcode.svg")
@login_required
def slip_barcode(bill_id: int):
    """The GS1-128 bars of an open bill as an SVG image (the slip page shows it)."""
    _page, bill, _contract = _open_bill(bill_id)
    barcode = parse(bill.payment_barcode) if bill.payment_barcode else None
    if barcode is None:
        abort(404)
    return no_store(current_app.response_class(barcode_svg(barcode.digits), mimetype="image/svg+xml"))


@portal.get("/bills/<bigint:bill_id>/pay")
@login_required
def pay_online(bill_id: int):
    """Send the citizen to the city's payment provider with the bill's reference (no card data
    passes through the portal); 404 when the city has no provider."""
    page, bill, contract = _open_bill(bill_id)
    provider = provider_for(page.tenant.settings)
    if provider is None:
        abort(404)
    return redirect(provider.payment_url(bill, contract), code=303)
