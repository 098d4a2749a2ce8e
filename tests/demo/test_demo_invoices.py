"""Both demo cities' exports, loaded by the real import, give 適格請求書 PDFs with the city's
登録番号 and an embedded font (issued as the worker does after the import)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.pdf_support import assert_japanese_font_embedded
from waterportal.billing.issuing import issue_pending
from waterportal.billing.models import BillDocument
from waterportal.core.time import utcnow_naive
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import generate_city, write_city
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.tenancy.context import tenant_context

TODAY = dt.date(2026, 11, 18)
EXPECTED = {"nayoro": ("名寄市(登録番号 T4000020012211)", "(検針日)"),
            "kanazawa": ("金沢市企業局(登録番号 T4000020172014)", "(使用期間)")}


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_bills_issue_qualified_invoices(app_ctx, nayoro, kanazawa, tmp_path, slug):
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    contracts_path, bills_path = write_city(tmp_path, generate_city(PROFILES[slug], tenant.settings, 3, 4, TODAY))
    assert import_contracts(tenant, contracts_path, filename="contracts.csv", actor="test").ok
    assert import_bills(tenant, bills_path, filename="bills.csv", actor="test").ok
    db.session.commit()
    with tenant_context(tenant):
        issued, _more = issue_pending(tenant, utcnow_naive(), limit=2)
        db.session.commit()
        # The files are read inside the city (row security hides its rows outside, on PostgreSQL).
        files = list(db.session.scalars(select(BillDocument.data)))
    assert issued == len(files) == 2
    issuer, date_kind = EXPECTED[slug]
    for data in files:
        reader = PdfReader(io.BytesIO(data))
        text = reader.pages[0].extract_text()
        assert issuer in text and date_kind in text and "10%対象(税込)" in text, text
        assert_japanese_font_embedded(data)
