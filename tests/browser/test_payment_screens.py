"""Issue 12 §3-4 in Chromium at 360 px (a phone): the 電子納付書 with its barcode, the
振替不能 and 通信欄 on the dashboard and the 収納済証明書 page fit the screen and are reached
by the keyboard."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.layout import no_sideways_scroll as fits
from tests.browser.layout import reaches_by_tab as tab_to
from tests.browser.members import PASSWORD, member_with_bills
from tests.imports.helpers import csv_text
from waterportal.billing import slip
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS, PAYMENT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

PHONE = {"width": 360, "height": 740}


def with_payment_details(app, slug: str, rows: list[dict]) -> None:
    """The member's bills again with payment columns: the newest open with its barcode and a
    通信欄, the one before it a failed 口座振替 (資金不足)."""
    newest, before = dict(rows[-1]), dict(rows[-2])
    newest.update(payment_method="納付書", message="漏水の可能性があります。点検をお勧めします。",
                  payment_barcode=slip.make_barcode("912345", newest["customer_number"], dt.date.fromisoformat(
                      newest["due_date"]), int(newest["total"])))
    before.update(paid_on="", payment_method="口座振替", transfer_date=before["due_date"], transfer_result="1")
    with app.app_context():
        city = get_registry().by_slug(slug)
        with tenant_context(city):
            result = import_bills(city, csv_text((*BILL_COLUMNS, *PAYMENT_COLUMNS), [before, newest]).encode())
            assert result.ok, result.errors
            db.session.commit()


def log_in(page, live_server, slug: str, identifier: str) -> None:
    page.goto(live_server.url(slug, "/login"))
    page.get_by_label("メールアドレス" if slug == "nayoro" else "ログインID", exact=True).fill(identifier)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")






@pytest.mark.browser
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_paying_on_a_phone(page, live_server, live_app, slug):
    identifier, _number, rows = member_with_bills(live_app, slug)
    with_payment_details(live_app, slug, rows)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, slug, identifier)
    alerts = page.locator(".payment-alerts")
    expect(alerts.locator(".transfer-failed")).to_contain_text("資金不足")
    expect(alerts.locator(".bill-message")).to_contain_text("漏水の可能性があります")
    assert fits(page)
    page.goto(live_server.url(slug, "/mypage/bills"))
    page.locator(".bill-card").first.get_by_role("link").click()
    page.wait_for_url("**/mypage/bills/*")
    assert tab_to(page, 'a[href$="/slip"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/slip")
    barcode = page.get_by_role("img", name="収納代行バーコード", exact=False)
    expect(barcode).to_be_visible()
    drawn = barcode.bounding_box()
    assert drawn and drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= 360 and drawn["width"] >= 250
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", barcode.element_handle())
    assert fits(page)
    page.goto(live_server.url(slug, "/mypage/certificates"))
    expect(page.get_by_label("開始の請求月")).to_be_visible()
    assert tab_to(page, "#month_to") and fits(page)
