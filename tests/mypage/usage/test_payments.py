"""Payment details on the member pages (issue 12 §3), the 収納済証明書 issued once, and each
contract's own billing cycle (§5): Nayoro bills monthly, its suburbs every two months."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.imports.helpers import bill_row, contract_row, csv_text
from tests.mypage.usage.conftest import history_rows
from waterportal.audit.models import AuditEntry
from waterportal.billing.models import PaymentCertificate
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS, PAYMENT_COLUMNS
from waterportal.tenancy.context import tenant_context

NAYORO_NO, OTHER_NO = "00012345682", "00012345693"


def payment_rows(number: str) -> list[dict]:
    return [
        bill_row(number, "2026-08", payment_method="口座振替", transfer_date="2026-08-27", transfer_result="0",
                 paid_on="2026-08-27"),
        bill_row(number, "2026-09", payment_method="口座振替", transfer_date="2026-09-28", transfer_result="1",
                 message="漏水の可能性があります。蛇口を閉めた状態でメーターが回っていないかご確認ください。"),
        bill_row(number, "2026-10", payment_method="納付書", message="メーターを検針できませんでした。"),
    ]


def import_payments(app, tenant, rows):
    with app.app_context(), tenant_context(tenant):
        result = import_bills(tenant, csv_text((*BILL_COLUMNS, *PAYMENT_COLUMNS), rows).encode())
        db.session.commit()
        assert result.ok, result.errors


@pytest.fixture
def payer(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO])
    import_payments(app, nayoro, payment_rows(NAYORO_NO))
    login(client, nayoro)
    return client


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_payment_details_on_the_list_detail_and_dashboard(payer, bill_ids, nayoro):
    bills = payer.get("/mypage/bills").get_data(as_text=True)
    assert "口座振替<br>振替済" in bills and "口座振替<br>振替不能(資金不足)" in bills and "納付書" in bills
    assert "メーターを検針できませんでした。" in bills and "未納(口座振替できませんでした)" in bills
    ids = bill_ids(nayoro, NAYORO_NO)
    detail = payer.get(f"/mypage/bills/{ids['2026-09']}").get_data(as_text=True)
    assert "<dt>振替日</dt><dd>令和8年9月28日</dd>" in detail and "<dt>振替結果</dt><dd>振替不能(資金不足)</dd>" in detail
    assert "令和8年9月分は口座振替できませんでした" in detail and "口座の残高が不足していたため" in detail
    assert "後日、名寄市から納付書をお送りします。" in detail  # the city's [payment] transfer_failed
    assert "漏水の可能性があります。" in detail and "収納済証明書(PDF)を発行する" not in detail  # unpaid
    dashboard = payer.get("/mypage").get_data(as_text=True)
    alerts = dashboard[dashboard.index('class="payment-alerts"'):dashboard.index('class="card bill-now"')]
    assert "令和8年9月分は口座振替できませんでした" in alerts and "資金不足" in alerts
    assert "令和8年10月分の通信欄" in alerts and "メーターを検針できませんでした。" in alerts


def test_no_alert_without_a_failed_transfer(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=[bill_row(NAYORO_NO, "2026-09")])
    login(client, nayoro)
    assert "payment-alerts" not in client.get("/mypage").get_data(as_text=True)


def test_a_certificate_is_issued_once_and_audited(app, payer, bill_ids, nayoro):
    paid = bill_ids(nayoro, NAYORO_NO)["2026-08"]
    page = payer.get(f"/mypage/bills/{paid}").get_data(as_text=True)
    assert "収納済証明書(PDF)を発行する" in page
    first = payer.submit(f"/mypage/bills/{paid}/certificate", {}, form_page=f"/mypage/bills/{paid}")
    assert first.status_code == 303
    download = payer.get(first.headers["Location"])
    assert download.status_code == 200 and "no-store" in download.headers["Cache-Control"]
    text = text_of(download.data)
    assert "収納済証明書" in text and NAYORO_NO in text and "令和8年8月分" in text and "5,000 円" in text  # 和暦
    assert "令和8年8月27日" in text and "令和8年8月1日〜" in text and "口座振替" in text and "名寄市長 上下水道事業管理者" in text
    assert "上記の上下水道料金について、名寄市に収納されたことを証明します。" in text  # the city's wording
    assert len(PdfReader(io.BytesIO(download.data)).pages[0].images) == 1  # the seal from tenants/nayoro/assets
    again = payer.submit(f"/mypage/bills/{paid}/certificate", {}, form_page=f"/mypage/bills/{paid}")
    assert again.headers["Location"] == first.headers["Location"]
    assert payer.get(again.headers["Location"]).data == download.data
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(db.func.count(PaymentCertificate.id))) == 1
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if e.action.startswith("payment_certificate")]
    assert actions == ["payment_certificate.issued", "payment_certificate.downloaded", "payment_certificate.downloaded"]
    unpaid = bill_ids(nayoro, NAYORO_NO)["2026-09"]
    refused = payer.submit(f"/mypage/bills/{unpaid}/certificate", {}, form_page=f"/mypage/bills/{paid}")
    assert refused.status_code == 409


def test_the_period_form_keeps_input_and_refuses_unpaid_months(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 4, newest="2026-10"))  # 07-09 paid, 10 unpaid
    login(client, nayoro)
    page = client.get("/mypage/certificates").get_data(as_text=True)
    assert re.findall(r'<option (?:selected )?value="(\d{4}-\d{2})"', page)[:3] == ["2026-07", "2026-08", "2026-09"]
    assert '<option selected value="2026-07">令和8年7月分</option>' in page  # values stay machine-readable
    wrong = client.submit("/mypage/certificates", {"month_from": "2026-09", "month_to": "2026-07"})
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "終了の請求月は開始の請求月と同じか" in body
    assert '<option selected value="2026-09">' in body  # what was chosen is kept
    issued = client.submit("/mypage/certificates", {"month_from": "2026-07", "month_to": "2026-09"})
    assert issued.status_code == 303
    text = text_of(client.get(issued.headers["Location"]).data)
    assert "令和8年7月分" in text and "令和8年9月分" in text and "合計" in text
    listed = client.get("/mypage/certificates").get_data(as_text=True)
    assert "令和8年7月分〜令和8年9月分(3件" in listed and "SHA-256" in listed
    # A month outside the choices (the unpaid October) is refused at its field.
    outside = client.submit("/mypage/certificates", {"month_from": "2026-07", "month_to": "2026-10"})
    assert outside.status_code == 422 and "お支払いが確認できた請求月から選択してください。" in outside.get_data(as_text=True)


def test_another_members_certificate_is_not_found(app, payer, bill_ids, nayoro, client_for, customer, login):
    paid = bill_ids(nayoro, NAYORO_NO)["2026-08"]
    location = payer.submit(f"/mypage/bills/{paid}/certificate", {}, form_page=f"/mypage/bills/{paid}").headers["Location"]
    customer(nayoro, [OTHER_NO], email="jiro@example.jp", bills=[bill_row(OTHER_NO, "2026-08", paid_on="2026-08-27")])
    stranger = client_for("nayoro")
    login(stranger, nayoro, "jiro@example.jp")
    assert stranger.get(location).status_code == 404
    assert stranger.submit(f"/mypage/bills/{paid}/certificate", {}, form_page="/mypage/certificates").status_code == 404


def test_a_bimonthly_suburb_contract_in_a_monthly_city(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 12, newest="2026-09", step=2))
    with app.app_context(), tenant_context(nayoro):
        row = contract_row(NAYORO_NO, holder_name="風連 花子", address="風連町テスト", billing_cycle="bimonthly")
        assert import_contracts(nayoro, csv_text((*CONTRACT_COLUMNS, "billing_cycle"), [row]).encode()).ok
        db.session.commit()
    login(client, nayoro)
    graph = client.get("/mypage/graph").get_data(as_text=True)
    assert "各期(2か月ごと)" in graph
    table = graph[graph.index("<table"):]
    months = re.findall(r"<th scope=\"row\">(令和\d+年\d+月)</th>", table)  # 和暦 in Nayoro
    assert months == ["令和7年11月", "令和8年1月", "令和8年3月", "令和8年5月", "令和8年7月", "令和8年9月"]
    assert "2か月ごとの検針・請求" in client.get("/mypage/bills").get_data(as_text=True)


def test_a_sewer_only_bill(client, nayoro, customer, login, clock, bill_ids):
    customer(nayoro, [NAYORO_NO], bills=[bill_row(NAYORO_NO, "2026-09", water_charge="0", sewer_charge="5000")])
    login(client, nayoro)
    assert "なし(下水道のみ)" in client.get("/mypage/bills").get_data(as_text=True)
    detail = client.get(f"/mypage/bills/{bill_ids(nayoro, NAYORO_NO)['2026-09']}").get_data(as_text=True)
    assert "<dt>水道料金</dt><dd>なし(下水道のみ)</dd>" in detail and "<dd>5,000 円</dd>" in detail


def test_the_bill_mail_follows_the_cycle_and_says_what_the_bank_reported(app, nayoro, customer, clock):
    from waterportal.billing.models import Bill
    from waterportal.billing.payments import transfer_failure
    from waterportal.contracts.models import Contract
    from waterportal.mail.services import render_mail

    customer(nayoro, [NAYORO_NO])
    import_payments(app, nayoro, payment_rows(NAYORO_NO))
    with app.app_context(), tenant_context(nayoro):
        contract = db.session.scalar(select(Contract))
        bill = db.session.scalar(select(Bill).where(Bill.billing_month == "2026-09"))
        _subject, body = render_mail(nayoro, "bill_ready", nickname="花子", label="", bill=bill, contract=contract,
                                     month="2026年09月", bimonthly=True,
                                     transfer_failure=transfer_failure(bill))
    assert "〜令和8年8月31日(2か月分)" in body  # Nayoro's dates in 和暦
    assert "お支払い方法: 口座振替(振替日 令和8年9月28日)" in body
    assert "口座振替ができませんでした(理由: 資金不足)。後日、名寄市から納付書をお送りします。" in body
    assert "通信欄: 漏水の可能性があります。" in body
