"""The 口座振替依頼書 of a 口座振替 application, prefilled, as a one-page PDF (reportlab).

The citizen prints it, writes the account number in full, stamps it with the seal
registered at the bank (届出印) and posts it to the city (or the city mails it for
signing). The portal never prints the whole number: the sheet shows its last three
digits, so the citizen can check the account, and a copy that goes astray gives nothing
away. Japanese text is set in the embedded IPAexGothic subset the bill PDF uses
(:mod:`waterportal.core.pdf_font`), so every viewer shows it.
One page with a few tables takes about 10 ms: it is drawn in the request.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from waterportal.contracts.models import Contract
from waterportal.core.pdf_font import japanese_font
from waterportal.core.time import to_city_time
from waterportal.extensions import db
from waterportal.procedures.catalog.payment_method import DEBIT
from waterportal.procedures.catalog.payment_method import KEY as KIND
from waterportal.procedures.kinds import get_kind
from waterportal.procedures.models import ProcedureRequest
from waterportal.procedures.services import masked_payload
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.words import DEFAULT_CUSTOMER_NUMBER_LABEL, customer_number_label

TITLE = "口座振替依頼書"


@dataclass(frozen=True)
class DebitSheet:
    """What the sheet prints; the account number only masked."""

    city: str
    portal: str
    receipt_number: str
    applied_on: dt.date
    customer_number: str
    contract_holder: str
    contract_address: str
    bank: str
    branch: str
    account_type: str
    masked_number: str
    holder_kana: str
    yucho_symbol: str = ""
    contact: str = ""
    customer_number_label: str = DEFAULT_CUSTOMER_NUMBER_LABEL  # the city's word (sheet_for)


def is_debit(request: ProcedureRequest) -> bool:
    """A 口座振替 application (the only requests that have a 口座振替依頼書)."""
    return request.kind == KIND and (request.payload or {}).get("method") == DEBIT


def sheet_for(tenant: TenantContext, request: ProcedureRequest) -> DebitSheet:
    """The sheet of a 口座振替 application: its contract, its account with the number masked."""
    shown = masked_payload(get_kind(KIND), request.payload or {})
    contract = db.session.get(Contract, request.contract_id) if request.contract_id else None
    windows = tenant.settings["contact"].get("windows") or []
    contact = " ".join(str(windows[0].get(key, "")) for key in ("name", "phone") if windows[0].get(key)) if windows else ""
    yucho = bool(shown.get("yucho_symbol"))
    return DebitSheet(
        city=tenant.name, portal=tenant.portal_name, receipt_number=request.receipt_number,
        applied_on=to_city_time(request.created_at, tenant.timezone).date(),
        customer_number=request.customer_number, contract_holder=contract.holder_name if contract else "",
        contract_address=contract.address if contract else "",
        bank=f"{shown.get('bank_name', '')}（{shown.get('bank_code', '')}）",
        branch="" if yucho else f"{shown.get('branch_name', '')}（{shown.get('branch_code', '')}）",
        account_type=shown.get("account_type", ""),
        masked_number=shown.get("yucho_number" if yucho else "account_number", ""),
        holder_kana=shown.get("holder_kana", ""), yucho_symbol=shown.get("yucho_symbol", ""), contact=contact,
        customer_number_label=customer_number_label(tenant.settings),
    )


def _style(size: float, **kw) -> ParagraphStyle:
    return ParagraphStyle(f"debit{size}", fontName=japanese_font(), fontSize=size, leading=size * 1.5, wordWrap="CJK", **kw)


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    """Plain text: names and the city's texts are data, never reportlab markup."""
    return Paragraph(escape(str(value)), style)


def _table(rows: list[list[str]], widths: list[float], *, heights: list[float] | None = None) -> Table:
    cell = _style(10)
    table = Table([[_p(text, cell) for text in row] for row in rows], colWidths=widths, rowHeights=heights)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.7, colors.HexColor("#374151")),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f5")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def sheet_filename(sheet: DebitSheet) -> str:
    """口座振替依頼書_R2026-000123.pdf."""
    return f"{TITLE}_{sheet.receipt_number}.pdf"


def debit_pdf(sheet: DebitSheet) -> bytes:
    """The one-page 口座振替依頼書 of ``sheet``."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=14 * mm,
        title=f"{TITLE} {sheet.receipt_number}", author=sheet.city, subject=sheet.portal, invariant=1, lang="ja",
    )
    width, label = doc.width, 42 * mm
    applied = sheet.applied_on
    account_rows = [
        ["金融機関", sheet.bank],
        ["支店" if not sheet.yucho_symbol else "記号", sheet.branch if not sheet.yucho_symbol else sheet.yucho_symbol],
        ["預金種目", sheet.account_type],
        ["口座番号" if not sheet.yucho_symbol else "番号", f"{sheet.masked_number}（下3桁）"],
        ["口座番号（ご記入ください）" if not sheet.yucho_symbol else "番号（ご記入ください）", ""],
        ["口座名義（フリガナ）", sheet.holder_kana],
        ["口座名義（漢字）", ""],
        ["お届け印", ""],
    ]
    heights = [None, None, None, None, 12 * mm, None, 12 * mm, 24 * mm]
    story = [
        _p(f"{sheet.city}　{sheet.portal}", _style(10)),
        Spacer(1, 4 * mm),
        _p(f"{TITLE}（上下水道料金）", _style(18, alignment=1)),
        Spacer(1, 3 * mm),
        _p(f"受付番号 {sheet.receipt_number}　申込日 {applied.year}年{applied.month}月{applied.day}日", _style(10, alignment=2)),
        Spacer(1, 4 * mm),
        _p(f"{sheet.city} 御中", _style(12)),
        _p("私は、上下水道料金を下記の口座から口座振替により支払うこととし、預金口座振替規定に同意のうえ依頼します。",
           _style(10)),
        Spacer(1, 4 * mm),
        _p("使用者（水道のご契約）", _style(11)),
        _table([
            [sheet.customer_number_label, sheet.customer_number],
            ["ご契約者名", sheet.contract_holder],
            ["給水場所", sheet.contract_address],
        ], [label, width - label]),
        Spacer(1, 4 * mm),
        _p("引き落とし口座", _style(11)),
        _table(account_rows, [label, width - label], heights=heights),
        Spacer(1, 4 * mm),
        _p("口座番号はご本人が全桁をご記入のうえ、金融機関へのお届け印を押してください。ポータルでは口座番号の全桁を"
           "表示・印字しません。金融機関の確認が済むまでは、これまでの方法でお支払いください。", _style(9)),
    ]
    if sheet.contact:
        story += [Spacer(1, 2 * mm), _p(f"提出先・お問い合わせ: {sheet.contact}", _style(9))]
    doc.build(story)
    return buffer.getvalue()
