"""The usage, payment and procedure pages in English and やさしい日本語 at 360 px (issue 13 §10):
longer English words and spaced easy Japanese must not push a card or a table off a phone's
screen, nor cut a text. With ``I18N_SHOTS=<dir>`` each page is also saved as a screenshot."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.layout import clipped
from tests.browser.members import member_with_bills
from tests.browser.test_payment_screens import PHONE, log_in, with_payment_details

# path -> a text the page shows in that language (the page really is translated)
PAGES = {
    "en": {"/mypage/graph": "Chart figures", "/mypage/documents": "Download documents",
           "/mypage/certificates": "Certificates issued", "/simulator": "Bill simulator",
           "/procedures/": "Procedures you can apply for"},
    "easy": {"/mypage/graph": "グラフの すうじ", "/mypage/documents": "しょるいを ダウンロード する",
             "/mypage/certificates": "だした しょうめいしょ", "/simulator": "りょうきんの けいさん",
             "/procedures/": "もうしこめる てつづき"},
}
BILL = {"en": "Qualified invoice details", "easy": "インボイスの ないよう"}
SLIP = {"en": "Barcode for convenience stores and payment apps", "easy": "コンビニ・スマホで はらう バーコード"}


def shoot(page, language: str, name: str) -> None:
    folder = os.environ.get("I18N_SHOTS")
    if folder:
        Path(folder, language).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder, language, f"{name}.png")), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "easy"])
def test_the_pages_fit_a_phone_in_each_language(page, live_server, live_app, language):
    slug = "nayoro"  # 11-digit numbers, the longer 和暦-free English dates, the tariff for the simulator
    identifier, _number, rows = member_with_bills(live_app, slug)
    with_payment_details(live_app, slug, rows)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, slug, identifier)
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_server.url(slug, "/")}])
    for path, text in PAGES[language].items():
        page.goto(live_server.url(slug, path))
        expect(page.locator("main")).to_contain_text(text)
        shoot(page, language, path.strip("/").replace("/", "-") or "top")
        assert clipped(page) == [], (language, path)
    page.goto(live_server.url(slug, "/mypage/bills"))
    page.locator(".bill-card").nth(1).get_by_role("link").click()  # the 振替不能 bill: the longest page
    page.wait_for_url("**/mypage/bills/*")
    expect(page.locator("main")).to_contain_text(BILL[language])
    shoot(page, language, "bill")
    assert clipped(page) == [], (language, "bill")
    page.goto(live_server.url(slug, "/mypage/bills"))
    page.locator(".bill-card").first.get_by_role("link").click()
    page.wait_for_url("**/mypage/bills/*")
    page.locator('a[href$="/slip"]').click()
    page.wait_for_url("**/slip")
    expect(page.locator("main")).to_contain_text(SLIP[language])
    shoot(page, language, "slip")
    assert clipped(page) == [], (language, "slip")
    page.goto(live_server.url(slug, "/simulator"))
    page.locator("input[name=usage]").fill("25")
    page.get_by_role("button", name={"en": "Calculate", "easy": "けいさん する"}[language]).click()
    expect(page.locator(".simulator-result")).to_be_visible()
    shoot(page, language, "simulator-result")
    assert clipped(page) == [], (language, "simulator result")
