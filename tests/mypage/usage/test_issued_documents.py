"""Bill PDFs issued once (issue 12): 適格請求書 facts on the page and in the PDF, the worker's job,
the same bytes on every download, corrected bills as new versions (the old one 訂正前), the
embedded font, and the member's search by 発行日, 金額 and 発行者."""
from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import func, select

from tests.imports.helpers import csv_text
from tests.mypage.usage.conftest import history_rows, issue_all
from tests.mypage.usage.test_pdf import pdf_text
from tests.pdf_support import assert_japanese_font_embedded
from waterportal.billing.bill_pdf import LEGACY_MONTH_STYLE, bill_pdf
from waterportal.billing.invoice import invoice_facts
from waterportal.billing.models import Bill, BillDocument
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS, INVOICE_COLUMNS
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import MailJob
from waterportal.tenancy.context import tenant_context

NAYORO_NO = "00012345682"
KANAZAWA_NO = "0100012345"
NAYORO_T = "T4000020012211"


def documents(app, tenant) -> list[BillDocument]:
    with app.app_context(), tenant_context(tenant):
        rows = list(db.session.scalars(select(BillDocument).order_by(BillDocument.bill_id, BillDocument.version)))
        db.session.expunge_all()
        return rows


def reimport(app, tenant, rows, header=BILL_COLUMNS):
    with app.app_context(), tenant_context(tenant):
        result = import_bills(tenant, csv_text(header, rows).encode(), filename="bills.csv")
        db.session.commit()
    assert result.ok, result.errors
    return issue_all(tenant)


def test_the_import_records_a_job_and_the_worker_issues_each_bill_once(app, nayoro, customer, clock, load):
    customer(nayoro, [NAYORO_NO])
    with app.app_context(), tenant_context(nayoro):
        assert import_bills(nayoro, csv_text(BILL_COLUMNS, history_rows(NAYORO_NO, 3)).encode()).ok
        db.session.commit()
        assert db.session.scalar(select(func.count(BillDocument.id))) == 0  # not in the import
        assert db.session.scalar(select(func.count(MailJob.id)).where(MailJob.kind == "bill_pdfs", MailJob.status == "pending"))
        expand_due()
        expand_due()  # a second round issues nothing again
        assert db.session.scalar(select(func.count(BillDocument.id))) == 3
    issued = documents(app, nayoro)
    assert [d.version for d in issued] == [1, 1, 1] and {d.issued_on.isoformat() for d in issued} == {"2026-11-18"}
    for document in issued:
        with app.app_context(), tenant_context(nayoro):
            data = db.session.scalar(select(BillDocument.data).where(BillDocument.id == document.id))
        assert (len(data), hashlib.sha256(data).hexdigest()) == (document.size, document.sha256)


def test_the_pdf_is_a_qualified_invoice_with_an_embedded_font(client, nayoro, customer, login, clock, bill_ids):
    rows = history_rows(NAYORO_NO, 1, newest="2026-10")
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    first = client.get(f"/mypage/bills/{bill_id}/pdf")
    clock.shift(minutes=60 * 24 * 40)  # downloaded weeks later: same bytes, the 発行日 of the issue
    login(client, nayoro)
    again = client.get(f"/mypage/bills/{bill_id}/pdf")
    assert first.status_code == again.status_code == 200 and first.data == again.data
    assert again.headers["Cache-Control"] == "no-store"
    text = pdf_text(first.data)
    total, tax = int(rows[0]["total"]), int(rows[0]["tax"])
    for expected in ("適格請求書の記載事項", f"名寄市(登録番号 {NAYORO_T}) 水道料金・下水道使用料",
                     "取引年月日", "令和8年10月20日(検針日)", "10%対象(税込)", f"{total:,} 円(うち消費税等 {tax:,} 円)",
                     "1円未満切り捨て", "発行日 令和8年11月18日", "風連 花子 様"):  # Nayoro prints 和暦
        assert expected in text, expected
    assert "8%対象" not in text and "媒介者" not in text
    assert_japanese_font_embedded(first.data)


def test_page_shows_the_invoice_facts_versions_and_hash(client, nayoro, customer, login, clock, bill_ids, app):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1, newest="2026-10"))
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    page = client.get(f"/mypage/bills/{bill_id}")
    html = page.get_data(as_text=True)
    (document,) = documents(app, nayoro)
    assert page.headers["Cache-Control"] == "no-store"
    for expected in ("適格請求書の記載事項", NAYORO_T, "令和8年10月20日(検針日)", "10%対象(税込)", document.sha256,
                     "風連 花子 様"):
        assert expected in html, expected


def test_a_corrected_bill_is_a_new_version_and_the_old_stays_as_issued(client, nayoro, customer, login, clock,
                                                                       bill_ids, app):
    rows = history_rows(NAYORO_NO, 1, newest="2026-10")
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    original = client.get(f"/mypage/bills/{bill_id}/pdf").data
    assert reimport(app, nayoro, rows) == 0  # unchanged: nothing issued
    clock.shift(minutes=60 * 24)
    corrected = {**rows[0], "water_charge": "1900", "total": "2900", "tax": str(2900 * 10 // 110)}
    assert reimport(app, nayoro, [corrected]) == 1
    old, new = documents(app, nayoro)
    assert (old.version, new.version) == (1, 2) and old.superseded_at is not None and new.superseded_at is None
    assert (old.issued_on.isoformat(), new.issued_on.isoformat()) == ("2026-11-18", "2026-11-19")
    login(client, nayoro)
    assert client.get(f"/mypage/bill-documents/{old.id}").data == original
    latest = client.get(f"/mypage/bills/{bill_id}/pdf")
    assert latest.data != original and "2,900 円" in pdf_text(latest.data) and "訂正後・第2版" in pdf_text(latest.data)
    html = client.get(f"/mypage/bills/{bill_id}").get_data(as_text=True)
    assert "訂正前" in html and old.sha256 in html and new.sha256 in html


def test_a_payment_is_no_correction(client, nayoro, customer, login, clock, bill_ids, app):
    """The import recording a payment changes the bill row, not its invoice: no new version."""
    rows = history_rows(NAYORO_NO, 1, newest="2026-10")
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    original = client.get(f"/mypage/bills/{bill_id}/pdf").data
    assert not rows[0]["paid_on"]
    clock.shift(minutes=60 * 24)
    assert reimport(app, nayoro, [{**rows[0], "paid_on": "2026-10-27"}]) == 0
    (document,) = documents(app, nayoro)
    assert document.version == 1 and document.superseded_at is None
    assert reimport(app, nayoro, [{**rows[0], "paid_on": "2026-10-27"}]) == 0  # and settled: nothing pending
    login(client, nayoro)
    assert client.get(f"/mypage/bills/{bill_id}/pdf").data == original


def test_a_version_issued_with_the_western_month_stays_unchanged(client, nayoro, customer, login, clock, bill_ids,
                                                                  app):
    """Nayoro's PDFs print the billing month in 和暦 (令和8年10月分); those issued before, in
    西暦 (2026年10月分), keep their bytes and version when a payment changes the bill row."""
    rows = history_rows(NAYORO_NO, 1, newest="2026-10")
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    assert "令和8年10月分" in pdf_text(client.get(f"/mypage/bills/{bill_id}/pdf").data)
    with app.app_context(), tenant_context(nayoro):  # the version as the old layout drew it
        document = db.session.scalar(select(BillDocument))
        bill, contract = db.session.get(Bill, bill_id), db.session.scalar(select(Contract))
        old = bill_pdf(nayoro, contract, bill, issued_on=document.issued_on, month_style=LEGACY_MONTH_STYLE)
        document.data, document.size, document.sha256 = old, len(old), hashlib.sha256(old).hexdigest()
        db.session.commit()
    assert "2026年10月分" in pdf_text(old) and "令和8年10月20日" in pdf_text(old)
    clock.shift(minutes=60 * 24)
    assert reimport(app, nayoro, [{**rows[0], "paid_on": "2026-10-27"}]) == 0  # recognised: no 訂正 version
    (kept,) = documents(app, nayoro)
    assert kept.version == 1 and kept.superseded_at is None and kept.sha256 == hashlib.sha256(old).hexdigest()
    login(client, nayoro)
    assert client.get(f"/mypage/bills/{bill_id}/pdf").data == old
    corrected = {**rows[0], "paid_on": "2026-10-27", "water_charge": "1900", "total": "2900", "tax": str(2900 * 10 // 110)}
    clock.shift(minutes=60)
    assert reimport(app, nayoro, [corrected]) == 1  # a real correction is still a new version, in 和暦
    login(client, nayoro)
    assert "令和8年10月分(訂正後・第2版)" in pdf_text(client.get(f"/mypage/bills/{bill_id}/pdf").data)


def test_the_recipient_is_the_holder_billed_not_the_current_one(client, nayoro, customer, login, clock, bill_ids, app):
    row = {**history_rows(NAYORO_NO, 1, newest="2026-10")[0], "holder_name": "株式会社 名寄製作所"}
    customer(nayoro, [NAYORO_NO])
    reimport(app, nayoro, [row], header=(*BILL_COLUMNS, *INVOICE_COLUMNS))
    with app.app_context(), tenant_context(nayoro):
        contract = db.session.scalar(select(Contract).where(Contract.customer_number == NAYORO_NO))
        contract.holder_name = "新しい 名義人"  # a later 名義変更
        db.session.commit()
    login(client, nayoro)
    bill_id = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    assert "株式会社 名寄製作所 様" in pdf_text(client.get(f"/mypage/bills/{bill_id}/pdf").data)
    html = client.get(f"/mypage/bills/{bill_id}").get_data(as_text=True)
    assert "株式会社 名寄製作所 様" in html and "新しい 名義人" not in html


def test_tax_per_rate_as_sent(client, nayoro, customer, login, clock, bill_ids, app):
    row = {**history_rows(NAYORO_NO, 1, newest="2026-10")[0], "water_charge": "4000", "sewer_charge": "1000",
           "total": "5000", "tax": "440", "taxable_10": "4000", "tax_10": "363", "taxable_8": "1000", "tax_8": "77"}
    customer(nayoro, [NAYORO_NO])
    reimport(app, nayoro, [row], header=(*BILL_COLUMNS, *INVOICE_COLUMNS))
    login(client, nayoro)
    text = pdf_text(client.get(f"/mypage/bills/{bill_ids(nayoro, NAYORO_NO)['2026-10']}/pdf").data)
    assert "4,000 円(うち消費税等 363 円)" in text and "8%対象(税込)" in text and "1,000 円(うち消費税等 77 円)" in text


def facts_for(app, tenant, invoice: dict, **bill):
    settings = {**tenant.settings, "invoice": {**tenant.settings["invoice"], **invoice}}
    values = {"reading_date": dt.date(2026, 10, 20), "water_charge": 3000, "sewer_charge": 2000, "total": 5000, "tax": 454, "holder_name": None,
              "taxable_10": None, "taxable_8": None, **bill}
    return invoice_facts(settings, Contract(holder_name="風連 花子"), Bill(**values))


SHIMONOSEKI_LIKE = [{"charge": "water", "name": "上下水道局", "registration_number": "T7000012050002"},
                    {"charge": "sewer", "name": "下水道部", "registration_number": "T4011001098993"}]


def test_several_issuers_and_the_intermediary_note(app, nayoro):
    facts = facts_for(app, nayoro, {"issuers": SHIMONOSEKI_LIKE, "intermediary_note": True})
    assert [i.line for i in facts.issuers] == ["上下水道局(登録番号 T7000012050002)", "下水道部(登録番号 T4011001098993)"]
    assert "上下水道局が下水道部の下水道使用料を媒介者交付特例により" in facts.intermediary_note
    assert facts_for(app, nayoro, {"issuers": SHIMONOSEKI_LIKE, "intermediary_note": False}).intermediary_note is None
    sewer_only = facts_for(app, nayoro, {"issuers": SHIMONOSEKI_LIKE, "intermediary_note": True},
                           water_charge=0, sewer_charge=2000, total=2000, tax=181)
    assert [i.name for i in sewer_only.issuers] == ["下水道部"] and sewer_only.intermediary_note is None
    assert facts_for(app, nayoro, {"issuers": []}) is None


def test_the_city_defines_the_transaction_date(client_for, kanazawa, customer, login, clock, bill_ids):
    rows = history_rows(KANAZAWA_NO, 1, newest="2026-09", step=2)
    customer(kanazawa, [KANAZAWA_NO], bills=rows)
    client = client_for("kanazawa")
    login(client, kanazawa)
    text = pdf_text(client.get(f"/mypage/bills/{bill_ids(kanazawa, KANAZAWA_NO)['2026-09']}/pdf").data)
    assert "2026年09月01日〜2026年09月20日(使用期間)" in text and "金沢市企業局(登録番号 T4000020172014)" in text


def test_members_search_their_documents(client, nayoro, customer, login, clock, app):
    rows = history_rows(NAYORO_NO, 3, newest="2026-10")  # totals 3000, 3048, 3096
    customer(nayoro, [NAYORO_NO])
    reimport(app, nayoro, rows[:2])
    clock.shift(minutes=60 * 24 * 3)
    reimport(app, nayoro, rows[2:])
    login(client, nayoro)  # (the member was made before the clock moved: log in now)

    def months(query: str = "") -> list[str]:
        html = client.get(f"/mypage/documents{query}").get_data(as_text=True)
        return re.findall(r"(令和\d+年\d+月)分", html)  # Nayoro writes 和暦

    assert months() == ["令和8年10月", "令和8年9月", "令和8年8月"]
    assert months("?issued_from=2026-11-20") == ["令和8年10月"]
    assert months("?issued_to=２０２６-11-18") == ["令和8年9月", "令和8年8月"]
    assert months("?amount_min=3010&amount_max=3,050") == ["令和8年9月"]
    assert months(f"?issuer={NAYORO_T}") == ["令和8年10月", "令和8年9月", "令和8年8月"]
    page = client.get("/mypage/documents?issued_from=2026-13-01&amount_max=-5&issuer=T0&amount_min=%3Cb%3E")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and page.headers["Cache-Control"] == "no-store"
    for message in ("日付は 2026-10-01 のように", "金額は0以上の整数", "一覧から選んでください"):
        assert message in html, message
    assert 'value="2026-13-01"' in html and 'value="&lt;b&gt;"' in html
    assert "条件に合う" not in html


def test_nobody_else_downloads_an_issued_document(client, client_for, nayoro, kanazawa, customer, login, clock, app,
                                                  make_member):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1))
    (document,) = documents(app, nayoro)
    make_member(nayoro, email="other@example.jp", data_visible_from=dt.date(2026, 1, 1))
    login(client, nayoro, "other@example.jp")
    assert client.get(f"/mypage/bill-documents/{document.id}").status_code == 404
    other_city = client_for("kanazawa")
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 1, newest="2026-09", step=2))
    login(other_city, kanazawa)
    assert other_city.get(f"/mypage/bill-documents/{document.id}").status_code == 404
    assert client.get("/mypage/bill-documents/99999999999999999999").status_code == 404


def test_hostile_values_in_the_document_search(client, nayoro, customer, login, clock):
    """The hostile-input walk's values (tests/test_form_fuzz.py) in every field of the GET search
    form: never a 500, never the markup back unescaped, a bad value named at its field."""
    from urllib.parse import urlencode

    from tests.test_form_fuzz import HOSTILE, MARKUP

    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1))
    login(client, nayoro)
    fields = ("issued_from", "issued_to", "amount_min", "amount_max", "issuer")
    for field in fields:
        for value in HOSTILE:
            page = client.get("/mypage/documents?" + urlencode({field: value}))
            body = page.get_data(as_text=True)
            assert page.status_code in (200, 422), (field, value[:20])
            assert MARKUP not in body and page.headers["Cache-Control"] == "no-store"
            if value:
                assert page.status_code == 422, (field, value[:20])
                assert f'id="{field}-error"' in body, (field, value[:20])
    every = client.get("/mypage/documents?" + urlencode(dict.fromkeys(fields, MARKUP)))
    assert every.status_code == 422 and every.get_data(as_text=True).count('class="error"') == len(fields)


def test_document_search_pages_by_30_and_keeps_the_filters(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 35, newest="2026-10"))
    login(client, nayoro)

    def listed(query: str) -> tuple[list[str], str]:
        html = client.get(f"/mypage/documents{query}").get_data(as_text=True)
        return re.findall(r"(令和\d+年\d+月)分", html), html

    first, html = listed("?issuer=" + NAYORO_T)
    assert len(first) == 30 and first[0] == "令和8年10月" and "1〜30件目" in html
    assert f'href="/mypage/documents?issuer={NAYORO_T}&amp;page=2" rel="next"' in html and 'rel="prev"' not in html
    second, html = listed(f"?issuer={NAYORO_T}&page=2")
    assert len(second) == 5 and not set(first) & set(second) and "31〜35件目" in html
    assert f'href="/mypage/documents?issuer={NAYORO_T}&amp;page=1" rel="prev"' in html and 'rel="next"' not in html
    assert listed("?page=abc")[0] == first and listed("?page=-3")[0] == first
    assert listed("?page=99999999999999999999")[0] == []  # past the end: none, never a 500
    narrowed, html = listed("?amount_max=3100")  # totals 3000 + 48 a month: the two oldest
    assert len(narrowed) == 3 and 'rel="next"' not in html
