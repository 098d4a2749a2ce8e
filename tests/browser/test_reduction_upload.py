"""漏水減額申請 in Chromium on a phone-sized screen: a member picks files (one refused by its
content), sees everything typed kept and is told to choose the files again, files the
request with a receipt and a photo, downloads them; the city's operator downloads them in
the console."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_procedures import (
    MEMBER_PASSWORD,
    new_member,
    new_operator,
    no_sideways_scroll,
    receipt_number,
    staff_login,
)
from tests.procedures import files


def fill_leak_form(page) -> None:
    page.locator("#f-contract_id").select_option(index=1)
    page.get_by_label("建物の床下・壁の中の給水管").check()
    page.locator("#f-leak_detail").fill("台所の床下")
    page.locator("#f-noticed_on").fill("2026-10-20")
    page.locator("#f-repaired_on").fill("2026-10-25")
    page.locator("#f-repairer_name").fill("名寄管工株式会社")
    page.locator("#f-first_month").fill("2026-09")
    page.locator("#f-last_month").fill("2026-10")
    page.locator("#f-phone").fill("0165432111")


@pytest.mark.browser
def test_a_member_files_a_leak_reduction_with_files_and_staff_download_them(
        page, browser, live_server, live_app, tmp_path):
    email, _number = new_member(live_app, "nayoro")
    operator = new_operator(live_app, "nayoro")
    receipt, photo, fake = tmp_path / "領収書.pdf", tmp_path / "配管.jpg", tmp_path / "写真.jpg"
    receipt.write_bytes(files.pdf("領収書 名寄管工"))
    photo.write_bytes(files.jpeg())
    fake.write_bytes(files.SVG)  # named like a photo, markup inside

    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_role("textbox", name="メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/mypage")
    page.goto(live_server.url("nayoro", "/procedures/new/leak_reduction"))
    fill_leak_form(page)
    page.locator("#f-attachments").set_input_files([str(fake), str(photo)])
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="申し込む").click()

    error = page.locator("#f-attachments-error")
    expect(error).to_contain_text("「写真.jpg」は添付できない種類のファイルです。")
    expect(page.locator("#f-attachments-hint")).to_contain_text("添付ファイルはもう一度選択してください")
    expect(page.locator("#f-repairer_name")).to_have_value("名寄管工株式会社")
    expect(page.locator("#f-last_month")).to_have_value("2026-10")
    expect(page.get_by_label("建物の床下・壁の中の給水管")).to_be_checked()
    assert no_sideways_scroll(page)

    page.locator("#f-contract_id").select_option(index=1)
    page.locator("#f-attachments").set_input_files([str(receipt), str(photo)])
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url("**/procedures/receipt*")
    number = receipt_number(page)

    page.goto(live_server.url("nayoro", f"/procedures/{number}"))
    with page.expect_download() as caught:
        page.get_by_role("link", name="領収書.pdf").click()
    download = caught.value
    assert download.suggested_filename == "領収書.pdf"
    assert Path(download.path()).read_bytes() == receipt.read_bytes()

    console = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP", accept_downloads=True)
    staff = console.new_page()
    try:
        staff_login(staff, live_server, "nayoro", operator)
        staff.goto(live_server.url("nayoro", "/admin/procedures"))
        staff.get_by_role("link", name=number).click()
        with staff.expect_download() as caught:
            staff.get_by_role("link", name="配管.jpg").click()
        assert Path(caught.value.path()).read_bytes() == photo.read_bytes()
    finally:
        console.close()
