"""電子納付書 (issue 12 §4): an open bill's page and PDF with the city's payment channels,
the GS1-128 convenience-store barcode that a scanner reads back, and the online provider."""
from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import resvg_py
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from tests.imports.helpers import bill_row, csv_text
from tests.pdf_support import assert_japanese_font_embedded, barcodes_in_pdf
from waterportal.billing import slip
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS, PAYMENT_COLUMNS
from waterportal.tenancy.context import tenant_context

NAYORO_NO = "00012345682"
DIGITS = slip.make_barcode("912345", "00012345682202610", dt.date(2026, 11, 30), 5509)


def decode(png: bytes) -> list:
    """What a scanner reads in the image (the SVG is rendered at 5 px a point: a phone camera
    sees a 0.2 mm module with several pixels)."""
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


@pytest.fixture
def open_bill(app, client, nayoro, customer, login, clock, bill_ids):
    customer(nayoro, [NAYORO_NO])
    rows = [bill_row(NAYORO_NO, "2026-09", paid_on="2026-10-30"),
            bill_row(NAYORO_NO, "2026-10", water_charge="3309", sewer_charge="2200", tax="500", total="5509",
                     due_date="2026-11-30", payment_method="納付書", payment_barcode=DIGITS)]
    with app.app_context(), tenant_context(nayoro):
        assert import_bills(nayoro, csv_text((*BILL_COLUMNS, *PAYMENT_COLUMNS), rows).encode()).ok
        db.session.commit()
    login(client, nayoro)
    return bill_ids(nayoro, NAYORO_NO)


def test_the_check_digit_and_fields():
    assert len(DIGITS) == 44 and DIGITS.startswith("91912345")
    fields = slip.parse(DIGITS)
    assert (fields.company, fields.due_date, fields.amount, fields.stamp) == ("912345", dt.date(2026, 11, 30), 5509, False)
    # Weights 3, 1, 3, ... from the rightmost of the 43 digits; 10 minus the last digit of the sum.
    body = DIGITS[:-1]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    assert DIGITS[-1] == str((10 - total % 10) % 10)
    assert slip.problems(DIGITS, total=5509, due_date=dt.date(2026, 11, 30)) == []
    assert slip.parse("92" + DIGITS[2:]) is None


def test_the_rendered_barcode_reads_back_as_gs1_128():
    png = bytes(resvg_py.svg_to_bytes(svg_string=slip.barcode_svg(DIGITS), zoom=5, background="#ffffff"))
    found = decode(png)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.Code128
    assert found[0].symbology_identifier == "]C1"  # FNC1 first: GS1-128
    assert found[0].text.replace("(91)", "91") == DIGITS


def test_the_slip_page_pdf_and_barcode(open_bill, client):
    bill = client.get(f"/mypage/bills/{open_bill['2026-10']}").get_data(as_text=True)
    assert f'href="/mypage/bills/{open_bill["2026-10"]}/slip"' in bill
    page = client.get(f"/mypage/bills/{open_bill['2026-10']}/slip")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "5,509 円" in body and "令和8年11月30日" in body and "コンビニエンスストア" in body and "セイコーマート" in body
    assert DIGITS in body  # the image's text alternative
    image = client.get(f"/mypage/bills/{open_bill['2026-10']}/barcode.svg")
    assert image.mimetype == "image/svg+xml" and "no-store" in image.headers["Cache-Control"]
    png = bytes(resvg_py.svg_to_bytes(svg_string=image.get_data(as_text=True), zoom=5, background="#ffffff"))
    assert decode(png)[0].text.replace("(91)", "91") == DIGITS
    pdf = client.get(f"/mypage/bills/{open_bill['2026-10']}/slip.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "電子納付書" in text and "5,509 円" in text and "令和8年11月30日" in text and "令和8年10月分" in text  # 和暦
    assert re.sub(r"\s", "", text).count(DIGITS[8:29]) == 1  # the digits under the bars
    # Printed at 300 dpi, the page's bars read back as GS1-128 with the bill's 44 digits.
    found = barcodes_in_pdf(pdf.data)
    assert [(b.format, b.symbology_identifier) for b in found] == [(zxingcpp.BarcodeFormat.Code128, "]C1")]
    assert found[0].text.replace("(91)", "91") == DIGITS
    assert_japanese_font_embedded(pdf.data)
    # A paid bill has nothing to pay.
    for path in ("slip", "slip.pdf", "barcode.svg", "pay"):
        assert client.get(f"/mypage/bills/{open_bill['2026-09']}/{path}").status_code == 404


def test_each_slip_pdf_carries_its_own_bills_barcode(app, open_bill, client, nayoro, bill_ids):
    """The barcode read from the PDF is the bill's, not a fixed image: another bill with other
    収納代行 data prints other bars, and a bill without them prints none."""
    other = slip.make_barcode("912345", "00012345682202611", dt.date(2026, 12, 28), 6105)
    rows = [bill_row(NAYORO_NO, "2026-11", water_charge="3705", sewer_charge="2400", tax="555", total="6105",
                     due_date="2026-12-28", payment_method="納付書", payment_barcode=other),
            bill_row(NAYORO_NO, "2026-12", due_date="2027-01-31", payment_method="納付書")]
    with app.app_context(), tenant_context(nayoro):
        assert import_bills(nayoro, csv_text((*BILL_COLUMNS, *PAYMENT_COLUMNS), rows).encode()).ok
        db.session.commit()
    ids = bill_ids(nayoro, NAYORO_NO)
    read = [b.text.replace("(91)", "91") for b in barcodes_in_pdf(client.get(f"/mypage/bills/{ids['2026-11']}/slip.pdf").data)]
    assert read == [other] and other != DIGITS
    bare = client.get(f"/mypage/bills/{ids['2026-12']}/slip.pdf")
    assert bare.mimetype == "application/pdf" and barcodes_in_pdf(bare.data) == []


def test_the_provider_gets_the_bills_reference_and_nothing_else(open_bill, client):
    body = client.get(f"/mypage/bills/{open_bill['2026-10']}/slip").get_data(as_text=True)
    assert "なよろ水道スマート決済(デモ)で支払う" in body
    response = client.get(f"/mypage/bills/{open_bill['2026-10']}/pay")
    assert response.status_code == 303
    url = urlsplit(response.headers["Location"])
    assert (url.scheme, url.netloc, url.path) == ("https", "pay.example.jp", "/nayoro-suido")
    assert parse_qs(url.query) == {"ref": [DIGITS], "amount": ["5509"], "due": ["20261130"]}


def test_kanazawa_has_no_provider(app, client_for, kanazawa, customer, login, clock, bill_ids):
    customer(kanazawa, ["0100012345"], bills=[bill_row("0100012345", "2026-09")])
    client = client_for("kanazawa")
    login(client, kanazawa)
    bill_id = bill_ids(kanazawa, "0100012345")["2026-09"]
    body = client.get(f"/mypage/bills/{bill_id}/slip").get_data(as_text=True)
    assert "slip-barcode" not in body  # no 収納代行 data was sent for this bill
    assert "金融機関の窓口" in body and "で支払う" not in body
    assert client.get(f"/mypage/bills/{bill_id}/pay").status_code == 404
    assert client.get(f"/mypage/bills/{bill_id}/barcode.svg").status_code == 404


def test_a_reported_payment_shows_paid_with_its_channel(app, open_bill, client, nayoro):
    from waterportal.imports.payment_results import REQUIRED, import_payments

    with app.app_context(), tenant_context(nayoro):
        rows = [{"customer_number": NAYORO_NO, "billing_month": "2026-10", "paid_on": "2026-11-05", "channel": "コンビニ"}]
        assert import_payments(nayoro, csv_text(REQUIRED, rows).encode()).ok
        db.session.commit()
    assert "納付済 令和8年11月5日(コンビニ)" in client.get("/mypage/bills").get_data(as_text=True)
    assert client.get(f"/mypage/bills/{open_bill['2026-10']}/slip").status_code == 404  # nothing left to pay
