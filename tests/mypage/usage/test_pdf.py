"""⑥ 検針票・請求書 PDF: the amounts of the imported bill, in Japanese, downloaded privately."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from urllib.parse import unquote

from pypdf import PdfReader
from sqlalchemy import select

from tests.mypage.usage.conftest import history_rows
from waterportal.billing.bill_pdf import bill_pdf
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import TenantAsset

ISSUED = dt.date(2026, 10, 5)
NAYORO_NO = "00012345682"
KANAZAWA_NO = "0100012345"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def check_bill_pdf(response, tenant_name: str, number: str, row: dict, month: str = "") -> str:
    """The downloaded PDF's headers and text; ``month`` is the billing month as the city prints
    it (default: 西暦 2026年09月)."""
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name == f"検針票_請求書_{row['billing_month']}_{number}.pdf"
    text = pdf_text(response.data)
    year, mm = row["billing_month"].split("-")
    for expected in (
        tenant_name, "検針票・請求書", f"{month or f'{year}年{mm}月'}分", number, "風連 花子 様", f"テスト町{number[-3:]}番地",
        f"{int(row['usage_m3']):,} m³", f"{int(row['previous_reading']):,}", f"{int(row['current_reading']):,}",
        f"{int(row['water_charge']):,} 円", f"{int(row['sewer_charge']):,} 円", f"{int(row['tax']):,} 円",
        f"{int(row['total']):,} 円", "納期限", "M54321 / 13 mm",
    ):
        assert expected in text, expected
    return text


def test_nayoro_bill_pdf_has_the_imported_amounts(client, nayoro, customer, login, clock, bill_ids):
    rows = history_rows(NAYORO_NO, 2, newest="2026-10")
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    text = check_bill_pdf(client.get(f"/mypage/bills/{bill_id}/pdf"), "名寄市", NAYORO_NO, rows[-1], "令和8年10月")
    # Nayoro prints its dates and the billing month in 和暦 ([invoice] date_style = "wareki").
    assert "令和8年10月28日" in text and "未納" not in text  # the issued invoice carries no payment status
    assert "令和8年10月1日 〜 令和8年10月20日" in text
    assert "お客様番号" in text and "お客さま番号" not in text  # the city's word, as on its pages
    older = check_bill_pdf(client.get(f"/mypage/bills/{bill_ids(nayoro, NAYORO_NO)['2026-09']}/pdf"),
                           "名寄市", NAYORO_NO, rows[0], "令和8年9月")
    assert "納付済" not in older


def test_kanazawa_bill_pdf(client_for, kanazawa, customer, login, clock, bill_ids):
    rows = history_rows(KANAZAWA_NO, 1, newest="2026-09", step=2)
    customer(kanazawa, [KANAZAWA_NO], bills=rows)
    client = client_for("kanazawa")
    login(client, kanazawa)
    bill_id = bill_ids(kanazawa, KANAZAWA_NO)["2026-09"]
    text = check_bill_pdf(client.get(f"/mypage/bills/{bill_id}/pdf"), "金沢市", KANAZAWA_NO, rows[0])
    assert "金沢市上下水道ポータルサイト" in text and "金沢市企業局 お客さまサービスセンター" in text
    assert "お客さま番号" in text and "お客様番号" not in text  # the city's word, as on its pages


def test_a_raster_logo_is_drawn(app, nayoro, customer, clock):
    """An uploaded PNG logo and the city's own PNG logo go into the PDF; an SVG logo
    (reportlab cannot draw SVG) falls back to the city's name as text."""
    from PIL import Image

    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1))
    png = io.BytesIO()
    Image.new("RGB", (64, 32), (11, 94, 142)).save(png, format="PNG")
    settings = {**nayoro.settings, "branding": {**nayoro.settings["branding"], "logo": "uploads/logo-test.png"}}
    with_logo = dataclasses.replace(nayoro, settings=settings)
    svg_settings = {**nayoro.settings, "branding": {**nayoro.settings["branding"], "logo": "logo.svg"}}
    with_svg = dataclasses.replace(nayoro, settings=svg_settings)
    # A logo name that leaves the city's assets folder (another city's logo) is no logo.
    outside = {**nayoro.settings, "branding": {**nayoro.settings["branding"], "logo": "../../kanazawa/assets/logo.png"}}
    with_outside = dataclasses.replace(nayoro, settings=outside)
    with app.app_context(), tenant_context(nayoro):
        db.session.add(TenantAsset(name="logo-test.png", content_type="image/png", data=png.getvalue(),
                                   size=len(png.getvalue())))
        db.session.flush()
        contract = db.session.scalar(select(Contract).where(Contract.customer_number == NAYORO_NO))
        bill = db.session.scalar(select(Bill).where(Bill.contract_id == contract.id))
        with app.test_request_context():
            drawn = PdfReader(io.BytesIO(bill_pdf(with_logo, contract, bill, issued_on=ISSUED)))
            own = PdfReader(io.BytesIO(bill_pdf(nayoro, contract, bill, issued_on=ISSUED)))
            plain = PdfReader(io.BytesIO(bill_pdf(with_svg, contract, bill, issued_on=ISSUED)))
            escaped = PdfReader(io.BytesIO(bill_pdf(with_outside, contract, bill, issued_on=ISSUED)))
        db.session.rollback()
    assert len(drawn.pages[0].images) == 1
    assert len(own.pages[0].images) == 1  # tenants/nayoro/assets/logo.png
    assert len(plain.pages[0].images) == 0
    assert len(escaped.pages[0].images) == 0
    assert "名寄市" in plain.pages[0].extract_text()


def test_names_and_city_texts_are_plain_text_in_the_pdf(app, nayoro, customer, clock):
    """reportlab's Paragraph reads markup: a holder name, an address or a contact window (a
    console setting) holding ``<para>`` or ``</b>`` made every bill PDF fail, ``<img src=...>``
    read a file of the server. They are text: printed as typed."""
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1))
    window = {"name": "水道課 <para>窓口", "phone": '<img src="/etc/hostname"/>'}
    settings = {**nayoro.settings, "contact": {**nayoro.settings["contact"], "windows": [window]}}
    hostile_city = dataclasses.replace(nayoro, settings=settings)
    with app.app_context(), tenant_context(nayoro):
        contract = db.session.scalar(select(Contract).where(Contract.customer_number == NAYORO_NO))
        contract.holder_name, contract.address = "風連 </b>花子", "テスト町 1-2 A&B <b>棟</b>"
        bill = db.session.scalar(select(Bill).where(Bill.contract_id == contract.id))
        with app.test_request_context():
            text = pdf_text(bill_pdf(hostile_city, contract, bill, issued_on=ISSUED))
        db.session.rollback()
    for typed in ("風連 </b>花子 様", "テスト町 1-2 A&B <b>棟</b>", "水道課 <para>窓口", '<img src="/etc/hostname"/>'):
        assert typed in text, typed
