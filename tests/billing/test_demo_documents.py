"""The demo's city documents: generated with the exports, loaded by the real `flask import documents`,
downloaded by the member as a PDF that shows the imported amounts in Japanese."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.mypage.usage.test_pdf import pdf_text
from tests.pdf_support import assert_japanese_font_embedded
from waterportal.demo.cities import PROFILES
from waterportal.demo.documents import TITLE
from waterportal.demo.exports import generate_city, write_city
from waterportal.tenancy.registry import get_registry

TODAY = dt.date(2026, 11, 18)  # the clock fixture's day (tests/clock.py)


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_documents_load_and_download(app, runner, client_for, customer, login, clock, tmp_path, slug):
    with app.app_context():
        tenant = get_registry().by_slug(slug)
    export = generate_city(PROFILES[slug], tenant.settings, 4, 24, TODAY)
    contracts_path, bills_path = write_city(tmp_path, export)
    folder = tmp_path / slug / "documents"
    index = (folder / "documents.csv").read_text(encoding="utf-8").splitlines()
    fixed = [h.customer_number for h in PROFILES[slug].fixed]
    assert index[0] == "customer_number,title,issued_on,file" and len(index) == 1 + len(fixed)
    # the same data give byte-identical files (so `make demo` run again changes nothing)
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    write_city(tmp_path, export)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first

    for kind, path in (("contracts", contracts_path), ("bills", bills_path), ("documents", folder)):
        result = runner.invoke(args=["import", kind, "--tenant", slug, str(path)])
        assert result.exit_code == 0, result.output
    assert "inserted=2 updated=0 unchanged=0" in result.output, result.output
    again = runner.invoke(args=["import", "documents", "--tenant", slug, str(folder)])
    assert again.exit_code == 0 and "inserted=0 updated=0 unchanged=2" in again.output, again.output

    number = fixed[0]
    customer(tenant, [number], email="demo-doc@example.jp")
    client = client_for(slug)
    login(client, tenant, email="demo-doc@example.jp")
    page = client.get("/mypage/documents").get_data(as_text=True)
    assert TITLE in page
    link = page.split('href="/mypage/documents/')[1].split('"')[0]
    response = client.get(f"/mypage/documents/{link}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert_japanese_font_embedded(response.data)
    text = pdf_text(response.data)
    bills = [b for b in export.bills if b["customer_number"] == number]
    newest = bills[-1]
    year, month = newest["billing_month"].split("-")
    household = PROFILES[slug].fixed[0]
    for expected in (TITLE, f"{household.holder_name} 様", number, household.address,
                     f"{year}年{month}月", f"{int(newest['usage_m3']):,} m³", f"{int(newest['total']):,} 円",
                     tenant.settings["mail"]["signature"].splitlines()[0]):
        assert expected in text, expected
    per_year = 6 if slug == "kanazawa" else 12
    assert f"{sum(int(b['total']) for b in bills[-per_year:]):,} 円" in text
