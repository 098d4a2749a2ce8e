"""The 電子納付書 of an unpaid bill as a PDF: amount, due date, the city's payment channels
and the GS1-128 convenience-store barcode (billing/slip.py) with its digits under the bars.

Drawn on request (it carries nothing but the bill's own data, which the import checked), with
the embedded Japanese font, so a citizen can print it or show it at a store's register."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from waterportal.billing.models import Bill
from waterportal.billing.queries import month_label
from waterportal.billing.slip import barcode_drawing, parse
from waterportal.contracts.models import Contract
from waterportal.core.pdf_font import japanese_font
from waterportal.core.wareki import japanese_date
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.words import customer_number_label

TITLE = "電子納付書"


def _style(size: float, **kw) -> ParagraphStyle:
    return ParagraphStyle(f"p{size}", fontName=japanese_font(), fontSize=size, leading=size * 1.6, wordWrap="CJK", **kw)


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(value)), style)


def slip_filename(contract: Contract, bill: Bill) -> str:
    return f"電子納付書_{bill.billing_month}_{contract.customer_number}.pdf"


def slip_pdf(tenant: TenantContext, contract: Contract, bill: Bill) -> bytes:
    """The PDF: who and what, the amount and due date (in the city's 西暦/和暦), the channels, the barcode."""
    style = tenant.settings["invoice"].get("date_style", "seireki")
    month = month_label(bill.billing_month, style)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{TITLE} {month}分",
                            author=tenant.name, invariant=1, lang="ja")
    width = doc.width
    cell = _style(10)
    facts = Table([[_text(a, cell), _text(b, cell)] for a, b in (
        (customer_number_label(tenant.settings), contract.customer_number), ("お名前", f"{bill.holder_name or contract.holder_name} 様"),
        ("請求月", f"{month}分"), ("ご請求金額", f"{bill.total:,} 円"),
        ("納期限", japanese_date(bill.due_date, style)))],
        colWidths=[35 * mm, width - 35 * mm])
    facts.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#6b7280")),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f5"))]))
    story: list = [_text(tenant.name, _style(11)), Spacer(1, 3 * mm), _text(TITLE, _style(20, alignment=1)),
                   Spacer(1, 6 * mm), facts, Spacer(1, 6 * mm)]
    barcode = parse(bill.payment_barcode) if bill.payment_barcode else None
    if barcode is not None:
        story += [_text("コンビニエンスストア・スマートフォン決済アプリでお支払いの際は、このバーコードを読み取らせてください。",
                        _style(10)), Spacer(1, 3 * mm), barcode_drawing(barcode.digits)]
        story += [_text(line, _style(9)) for line in barcode.lines]
        story.append(Spacer(1, 6 * mm))
    channels = tenant.settings["payment"]["channels"]
    if channels:
        story.append(_text("お支払い方法", _style(12)))
        for channel in channels:
            story.append(_text(f"■ {channel['name']}" + (f": {channel['text']}" if channel["text"] else ""), _style(10)))
            if channel["url"]:
                story.append(_text(channel["url"], _style(8)))
    doc.build(story)
    return buffer.getvalue()
