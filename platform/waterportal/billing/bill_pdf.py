"""⑥ The 検針票・請求書 of one bill as a PDF, drawn with reportlab: the 適格請求書 (issue 12).

Drawn once per bill version by the worker (:mod:`waterportal.billing.issuing`) and kept
unchanged, so everything printed comes from the bill, the contract and the city's settings,
and the 発行日 is the day it was issued, never the day it is downloaded. Japanese text uses
IPAexGothic embedded as a subset (:mod:`waterportal.core.pdf_font`): every viewer shows it.
The city's logo is drawn when it is a PNG or JPEG (both demo cities ship a PNG); an SVG logo is not
drawn (reportlab cannot read SVG without another dependency): the city's name, which
heads the page anyway, stands in for it.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from waterportal.billing.invoice import invoice_facts
from waterportal.billing.models import Bill
from waterportal.billing.queries import month_label
from waterportal.contracts.models import Contract
from waterportal.core.pdf_font import japanese_font
from waterportal.core.wareki import japanese_date
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.icons import logo_bytes
from waterportal.tenancy.words import customer_number_label

log = logging.getLogger("waterportal.portal")

RASTER_LOGOS = (".png", ".jpg", ".jpeg")
DOCUMENT_TITLE = "上下水道料金 検針票・請求書"


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: Paragraph reads markup (``<b>``, ``<img src=...>`` loads a
    file), and names, addresses and the city's texts are data, never markup."""
    return Paragraph(escape(str(value)), style)


def _style(size: float, leading: float | None = None, **kw) -> ParagraphStyle:
    return ParagraphStyle(f"s{size}", fontName=japanese_font(), fontSize=size, leading=leading or size * 1.5,
                          wordWrap="CJK", **kw)


def _logo_bytes(tenant: TenantContext) -> bytes | None:
    """The city's logo if it is a raster image (tenant assets or an upload), else None."""
    name = tenant.settings.get("branding", {}).get("logo", "")
    if not name or not name.lower().endswith(RASTER_LOGOS):
        return None
    return logo_bytes(tenant)  # the one loader: the city's own upload, or a file inside its assets


def _logo(tenant: TenantContext) -> Image | None:
    data = _logo_bytes(tenant)
    if not data:
        return None
    try:
        reader = ImageReader(io.BytesIO(data))
        width, height = reader.getSize()
    except Exception:  # a broken upload must not stop the bill  # noqa: BLE001
        log.warning("logo of %s is not a readable image; drawn as text", tenant.slug)
        return None
    scale = 14 * mm / max(height, 1)
    return Image(io.BytesIO(data), width=width * scale, height=14 * mm)


def _yen(value: int) -> str:
    return f"{value:,} 円"


def _grid(rows: list[list[str]], widths: list[float], size: float = 10) -> Table:
    cell = _style(size)
    table = Table([[_text(text, cell) for text in row] for row in rows], colWidths=widths)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#6b7280")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f5")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def bill_pdf_filename(contract: Contract, bill: Bill) -> str:
    """検針票_請求書_2024-09_00012345678.pdf."""
    return f"検針票_請求書_{bill.billing_month}_{contract.customer_number}.pdf"


# How the billing month was printed before it followed the city's date_style (2026-11-27):
# 西暦 everywhere. :func:`waterportal.billing.issuing._unchanged` also draws a document in
# this layout, so a version issued then is still recognised as unchanged (no 訂正 version).
LEGACY_MONTH_STYLE = "seireki"


def bill_pdf(tenant: TenantContext, contract: Contract, bill: Bill, *, issued_on: dt.date, version: int = 1,
             month_style: str | None = None) -> bytes:
    """The PDF of ``bill`` issued on ``issued_on``: city, recipient, period, readings, usage,
    charges, the 適格請求書 facts (issuers, 登録番号, 取引年月日, amounts and tax per rate),
    total and due date. ``version`` > 1 marks a corrected bill (訂正後). Dates and the billing
    month follow the city's ``[invoice] date_style``; ``month_style`` overrides the month's
    (:data:`LEGACY_MONTH_STYLE`: the layout of documents issued before the month followed it)."""
    facts = invoice_facts(tenant.settings, contract, bill)
    style = tenant.settings["invoice"].get("date_style", "seireki")
    month = month_label(bill.billing_month, month_style or style)  # 2026年10月 / 令和8年10月

    def _ymd(value) -> str:  # 2026年10月20日, or 令和8年10月20日 where the city prints 和暦
        return japanese_date(value, style) if value else ""

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=f"{DOCUMENT_TITLE} {month}分", author=tenant.name,
        subject=tenant.portal_name, invariant=1, lang="ja",
    )
    width = doc.width
    story: list = []
    logo = _logo(tenant)
    heading = [Paragraph(f"{escape(tenant.name)}<br/>{escape(tenant.portal_name)}", _style(11))]
    story.append(Table([[logo, heading]] if logo else [[heading]],
                       colWidths=[20 * mm, width - 20 * mm] if logo else [width]))
    subtitle = f"{month}分" + (f"(訂正後・第{version}版)" if version > 1 else "")
    story += [Spacer(1, 4 * mm), _text(DOCUMENT_TITLE, _style(18, alignment=1)), Spacer(1, 2 * mm),
              _text(subtitle, _style(12, alignment=1)), Spacer(1, 6 * mm)]
    label = 38 * mm
    recipient = facts.recipient if facts else (bill.holder_name or contract.holder_name)
    story.append(_grid([
        [customer_number_label(tenant.settings), contract.customer_number],
        ["お名前", f"{recipient} 様"],
        ["ご住所", contract.address],
    ], [label, width - label]))
    story.append(Spacer(1, 5 * mm))
    story.append(_text("検針のお知らせ", _style(12)))
    readings = [
        ["使用期間", f"{_ymd(bill.period_start)} 〜 {_ymd(bill.period_end)}"],
        ["検針日", _ymd(bill.reading_date)],
        ["メーター番号 / 口径", f"{contract.meter_number} / {contract.meter_diameter_mm} mm"],
        ["前回指針", f"{bill.previous_reading:,}"],
        ["今回指針", f"{bill.current_reading:,}" + ("(メーター交換あり)" if bill.meter_exchanged else "")],
        ["使用水量", f"{bill.usage_m3:,} m³"],
    ]
    story.append(_grid(readings, [label, width - label]))
    story.append(Spacer(1, 5 * mm))
    story.append(_text("ご請求金額", _style(12)))
    story.append(_grid([
        ["水道料金", _yen(bill.water_charge)],
        ["下水道使用料", _yen(bill.sewer_charge)],
        ["うち消費税等", _yen(bill.tax)],
        ["ご請求金額(税込)", _yen(bill.total)],
        ["納期限", _ymd(bill.due_date)],
        # No 納付状況: the document is issued once, before it is paid (the bill page and the
        # 収納済証明書 show the payment; a payment must not make a 訂正 version).
    ], [label, width - label], size=11))
    if facts:
        story += [Spacer(1, 5 * mm), _text("適格請求書の記載事項", _style(12)),
                  _grid(invoice_rows(facts), [label, width - label])]
        if facts.intermediary_note:
            story += [Spacer(1, 2 * mm), _text(facts.intermediary_note, _style(9))]
    story.append(Spacer(1, 8 * mm))
    windows = tenant.settings.get("contact", {}).get("windows") or []
    footer = [f"発行日 {_ymd(issued_on)}({tenant.portal_name}から発行)"]
    if windows:
        footer.append(f"お問い合わせ: {windows[0]['name']} {windows[0].get('phone', '')}")
    story += [_text(line, _style(9)) for line in footer]
    doc.build(story)
    return buffer.getvalue()


def invoice_rows(facts) -> list[list[str]]:
    """The 適格請求書 rows: issuers with 登録番号, 取引年月日, amount and tax per rate, rounding."""
    rows = [["発行者・登録番号" if n == 0 else "", f"{i.line} {'・'.join(i.charges)}"]
            for n, i in enumerate(facts.issuers)]
    rows.append(["取引年月日", facts.transaction_date])
    rows += [[f"{line.label}(税込)", f"{_yen(line.taxable)}(うち消費税等 {_yen(line.tax)})"] for line in facts.tax_lines]
    rows.append(["端数処理", f"消費税等は税率ごとに1円未満{facts.rounding}"])
    return rows
