"""Demo documents a city issued to its customers (⑥ 書類ダウンロード), as the city would hand them over.

For each fixed demo contract (the ones a tester registers with) one PDF
「上下水道ご使用量のお知らせ」 listing its last year of bills, dated the latest reading day,
plus the index ``documents.csv`` of ``flask import documents``. PDFs are drawn with
the embedded IPAexGothic subset of the portal's own PDFs (:mod:`waterportal.core.pdf_font`)
and ``invariant=1`` (no timestamp, fixed id), so the same bills give byte-identical files and
importing them again changes nothing.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from waterportal.core.pdf_font import japanese_font
from waterportal.demo.cities import PROFILES

TITLE = "上下水道ご使用量のお知らせ"
INDEX_COLUMNS = ("customer_number", "title", "issued_on", "file")


def _style(size: float) -> ParagraphStyle:
    return ParagraphStyle(f"demo{size}", fontName=japanese_font(), fontSize=size, leading=size * 1.5, wordWrap="CJK")


def usage_notice_pdf(issuer: str, holder_name: str, customer_number: str, address: str,
                     bills: list[dict[str, str]]) -> bytes:
    """The notice as PDF bytes: who, where, and one row per bill (month, usage, amount)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=TITLE, author=issuer, invariant=1,
                            leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
    body, small = _style(10.5), _style(9)
    rows = [["請求月", "使用期間", "使用水量", "請求金額"]]
    for bill in bills:
        year, month = bill["billing_month"].split("-")
        period = f"{bill['period_start'].replace('-', '/')}〜{bill['period_end'].replace('-', '/')}"
        rows.append([f"{year}年{month}月", period, f"{int(bill['usage_m3']):,} m³", f"{int(bill['total']):,} 円"])
    total_usage = sum(int(bill["usage_m3"]) for bill in bills)
    total_amount = sum(int(bill["total"]) for bill in bills)
    rows.append(["合計", "", f"{total_usage:,} m³", f"{total_amount:,} 円"])
    table = Table(rows, colWidths=[30 * mm, 62 * mm, 32 * mm, 36 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), japanese_font(), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef3")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")),
        ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
    ]))
    doc.build([
        Paragraph(issuer, small), Spacer(1, 6 * mm),
        Paragraph(TITLE, _style(16)), Spacer(1, 6 * mm),
        Paragraph(f"{holder_name} 様", body),
        Paragraph(f"お客さま番号 {customer_number}", body),
        Paragraph(f"ご使用場所 {address}", body), Spacer(1, 5 * mm),
        Paragraph("いつも上下水道をご利用いただき、誠にありがとうございます。直近1年間のご使用水量と"
                  "請求金額をお知らせします。節水の目安としてご活用ください。", body),
        Spacer(1, 5 * mm), table,
    ])
    return buffer.getvalue()


def issuer(settings: Mapping[str, Any]) -> str:
    """Who issues the city's documents: the first line of its mail signature (the 担当課)."""
    return settings["mail"]["signature"].splitlines()[0]


def write_documents(folder: Path, export) -> Path | None:
    """Write ``folder/documents/`` (index and PDFs) for the fixed demo contracts of ``export``.

    ``export`` is a :class:`~waterportal.demo.exports.CityExport`; returns the folder, or
    None when none of the fixed contracts has bills.
    """
    fixed = {h.customer_number for h in PROFILES[export.slug].fixed}
    target = Path(folder) / "documents"
    index = []
    for household in export.households:
        if household.customer_number not in fixed:
            continue
        bills = [b for b in export.bills if b["customer_number"] == household.customer_number][-export.periods_per_year:]
        if not bills:
            continue
        target.mkdir(parents=True, exist_ok=True)
        name = f"usage-{household.customer_number}.pdf"
        (target / name).write_bytes(usage_notice_pdf(
            export.issuer, household.holder_name, household.customer_number, household.address, bills))
        index.append({"customer_number": household.customer_number, "title": TITLE,
                      "issued_on": bills[-1]["period_end"], "file": name})
    if not index:
        return None
    with (target / "documents.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=INDEX_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(index)
    return target
