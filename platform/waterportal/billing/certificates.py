"""収納済証明書 (proof of payment, issue 12 §3): a PDF certifying that one contract's bills of a
month or a period were paid, issued once at the member's request and kept unchanged.

The certificate of (contract, first month, last month) is drawn the first time it is asked
for, stored with its SHA-256, size and 発行日 (``payment_proofs``), and every later request
for the same months serves those bytes. It is refused while a bill of the period is unpaid
or when the period has no bill. The wording, the issuer and the seal image come from the
city's ``[payment]`` settings and ``tenants/<slug>/assets``. Issuing and each download are
audited (the member as actor).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import gettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from waterportal.audit import services as audit
from waterportal.billing.models import Bill, PaymentCertificate
from waterportal.billing.queries import month_label
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.i18n import format_month
from waterportal.core.pdf_font import japanese_font
from waterportal.core.time import to_city_time
from waterportal.core.wareki import japanese_date
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.words import customer_number_label

log = logging.getLogger("waterportal.billing")


class CertificateRefused(ValueError):
    """The period cannot be certified (no bill, or a bill not paid yet); the message says why."""


def paid_months(contract_id: int) -> list[str]:
    """The billing months of the contract's paid bills, oldest first (the period form's choices)."""
    return list(db.session.scalars(select(Bill.billing_month).where(
        Bill.contract_id == contract_id, Bill.paid_on.is_not(None)).order_by(Bill.billing_month)))


def member_certificates(member_id: int, contract_id: int) -> list[PaymentCertificate]:
    """The certificates issued for one of the member's contracts, newest first (files not loaded)."""
    return list(db.session.scalars(
        select(PaymentCertificate).join(MemberContract, MemberContract.contract_id == PaymentCertificate.contract_id)
        .where(PaymentCertificate.contract_id == contract_id, MemberContract.member_id == member_id)
        .order_by(PaymentCertificate.issued_at.desc(), PaymentCertificate.id.desc())))


def member_certificate(member_id: int, certificate_id: int) -> PaymentCertificate | None:
    """A certificate of one of the member's contracts of the current city, or None."""
    return db.session.scalar(
        select(PaymentCertificate).join(MemberContract, MemberContract.contract_id == PaymentCertificate.contract_id)
        .where(PaymentCertificate.tenant_id == current_tenant().id, PaymentCertificate.id == certificate_id,
               MemberContract.member_id == member_id))


def _period_bills(contract_id: int, month_from: str, month_to: str) -> list[Bill]:
    bills = list(db.session.scalars(select(Bill).where(
        Bill.contract_id == contract_id, Bill.billing_month >= month_from, Bill.billing_month <= month_to,
    ).order_by(Bill.billing_month)))
    if not bills:
        raise CertificateRefused(gettext("この期間のご請求はありません。"))
    # The refusal is the member's page's text: months and words in its language (和暦 in Nayoro's Japanese).
    unpaid = [format_month(bill.billing_month) for bill in bills if bill.paid_on is None]
    if unpaid:
        raise CertificateRefused(gettext("%(months)s分の納付が確認できていないため、証明書を発行できません。",
                                         months=gettext("、").join(unpaid)))
    return bills


def issue_certificate(tenant: TenantContext, member_id: int, contract: Contract, month_from: str, month_to: str,
                      now: dt.datetime, remote_addr: str = "") -> PaymentCertificate:
    """The 収納済証明書 of ``contract``'s bills from ``month_from`` to ``month_to``: the one issued
    before, or a new one (flushed, audited; the caller commits). Raises CertificateRefused."""
    if month_from > month_to:
        month_from, month_to = month_to, month_from
    key = (PaymentCertificate.contract_id == contract.id, PaymentCertificate.month_from == month_from,
           PaymentCertificate.month_to == month_to)
    found = db.session.scalar(select(PaymentCertificate).where(PaymentCertificate.tenant_id == tenant.id, *key))
    if found is not None:
        return found
    bills = _period_bills(contract.id, month_from, month_to)
    issued_on = to_city_time(now, tenant.timezone).date()
    data = certificate_pdf(tenant, contract, bills, issued_on)
    period = month_from if month_from == month_to else f"{month_from}_{month_to}"
    certificate = PaymentCertificate(
        tenant_id=tenant.id, contract_id=contract.id, month_from=month_from, month_to=month_to, bills=len(bills),
        total=sum(bill.total for bill in bills), issued_on=issued_on, issued_at=now,
        filename=f"収納済証明書_{period}_{contract.customer_number}.pdf", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), data=data,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:  # the same period issued by a parallel request: that one stands
        return db.session.scalar(select(PaymentCertificate).where(PaymentCertificate.tenant_id == tenant.id, *key))
    audit.record(f"member:{member_id}", "payment_certificate.issued", target=f"contract:{contract.id}",
                 remote_addr=remote_addr, months=f"{month_from}..{month_to}", sha256=certificate.sha256)
    return certificate


def record_download(member_id: int, certificate: PaymentCertificate, remote_addr: str = "") -> None:
    """Audit a download of a certificate (the caller commits)."""
    audit.record(f"member:{member_id}", "payment_certificate.downloaded", target=f"contract:{certificate.contract_id}",
                 remote_addr=remote_addr, certificate=certificate.id)


def _style(size: float, **kw) -> ParagraphStyle:
    return ParagraphStyle(f"c{size}", fontName=japanese_font(), fontSize=size, leading=size * 1.6,
                          wordWrap="CJK", **kw)


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(value)), style)  # data, never markup




def _seal(tenant: TenantContext) -> Image | None:
    """The city's seal from its assets (``[payment] seal``), 22 mm square; None without one."""
    name = tenant.settings["payment"]["seal"]
    if not name:
        return None
    path = Path(current_app.config["TENANTS_DIR"]) / tenant.slug / "assets" / name
    try:
        ImageReader(str(path)).getSize()
    except Exception:  # a missing or broken file must not stop the certificate  # noqa: BLE001
        log.warning("seal %s of %s is not a readable image; certificate issued without it", name, tenant.slug)
        return None
    return Image(str(path), width=22 * mm, height=22 * mm)


def certificate_pdf(tenant: TenantContext, contract: Contract, bills: list[Bill], issued_on: dt.date) -> bytes:
    """The certificate's PDF: title, 発行日, the customer, each bill (month, period, amount, 納付日,
    method), the total, the city's wording, the issuer and its seal."""
    wording = tenant.settings["payment"]
    style = tenant.settings["invoice"].get("date_style", "seireki")

    def _ymd(value: dt.date) -> str:  # 2026年08月27日, or 令和8年8月27日 where the city writes 和暦
        return japanese_date(value, style)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=wording["certificate_title"], author=tenant.name,
                            invariant=1, lang="ja")
    width = doc.width
    cell = _style(9)
    story: list = [
        _text(f"発行日 {_ymd(issued_on)}", _style(10, alignment=2)), Spacer(1, 4 * mm),
        _text(wording["certificate_title"], _style(20, alignment=1)), Spacer(1, 8 * mm),
    ]
    holder = bills[-1].holder_name or contract.holder_name
    people = Table([[_text(a, cell), _text(b, cell)] for a, b in (
        (customer_number_label(tenant.settings), contract.customer_number), ("お名前", f"{holder} 様"), ("ご住所", contract.address))],
        colWidths=[35 * mm, width - 35 * mm])
    rows = [[_text(h, cell) for h in ("請求月", "使用期間", "金額(税込)", "納付日", "お支払い方法")]]
    for bill in bills:
        period = [_text(f"{_ymd(bill.period_start)}〜", cell), _text(_ymd(bill.period_end), cell)]  # two lines
        rows.append([_text(f"{month_label(bill.billing_month, style)}分", cell), period, *(_text(value, cell) for value in (
            f"{bill.total:,} 円", _ymd(bill.paid_on), bill.payment_method or ""))])  # type: ignore[arg-type]
    rows.append([_text("合計", cell), "", _text(f"{sum(b.total for b in bills):,} 円", cell), "", ""])
    table = Table(rows, colWidths=[33 * mm, 44 * mm, 25 * mm, 36 * mm, width - 138 * mm], repeatRows=1)
    grid = [("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#6b7280")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5"))]
    people.setStyle(TableStyle(grid[:2]))
    table.setStyle(TableStyle(grid))
    story += [people, Spacer(1, 6 * mm), table, Spacer(1, 8 * mm), _text(wording["certificate_text"], _style(11)),
              Spacer(1, 10 * mm)]
    issuer = _text(wording["certificate_issuer"] or tenant.name, _style(13, alignment=2))
    seal = _seal(tenant)
    story.append(Table([[issuer, seal]] if seal else [[issuer]],
                       colWidths=[width - 26 * mm, 26 * mm] if seal else [width]))
    story += [Spacer(1, 6 * mm), _text(f"{tenant.portal_name}から発行", _style(8, textColor=colors.HexColor("#4b5563")))]
    doc.build(story)
    return buffer.getvalue()


