"""各種お手続き end to end in Chromium on a phone-sized screen, with the mail read from a real
SMTP server: a new resident files 使用開始 without an account; a member files 使用中止 and
口座振替, the city's operator processes both in the console and hands them to the billing
system, whose answer (the export file, round-tripped through import-status) completes
them; the member sees 完了 and gets the mails."""
from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.layout import no_sideways_scroll
from tests.browser.test_admin import STAFF_PASSWORD, staff_login
from tests.clock import DAYTIME
from tests.smtp import body_of, find_code
from waterportal.accounts.models import Member
from waterportal.admin.settings.services import apply_overrides
from waterportal.admin.staff.services import create_staff
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.imports.procedure_status import import_status
from waterportal.mail.sender import send_due
from waterportal.procedures import dates
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

MEMBER_PASSWORD = "Passw0rd!x"
KINDS = ["move_in", "move_out", "payment_method"]


def city(app, slug: str):
    with app.app_context():
        registry = get_registry()
        registry.refresh(force=True)
        return registry.by_slug(slug)


def enable(app, slug: str) -> str:
    """Switch the kinds on (as the city's admin would) and return the first allowed date."""
    tenant = city(app, slug)
    with app.app_context(), tenant_context(tenant):
        enabled = sorted(set(tenant.settings["procedures"]["enabled"]) | set(KINDS))
        apply_overrides(tenant, {"procedures": {"enabled": enabled}}, actor="staff:0")
        db.session.commit()
    tenant = city(app, slug)
    return dates.date_window(tenant, DAYTIME.date()).business_days()[0].isoformat()


def new_member(app, slug: str) -> tuple[str, str]:
    """A member with one linked contract; returns (email, customer number)."""
    tag = uuid.uuid4().hex[:8]
    tenant = city(app, slug)
    digits = tenant.settings["registration"]["customer_number_digits"]
    number = str(int(tag, 16) % 10**digits).zfill(digits)
    email = f"m{tag}@example.jp"
    with app.app_context(), tenant_context(tenant):
        contract = Contract(customer_number=number, holder_name="水道 太郎", holder_name_kana="スイドウタロウ",
                            phone="0165432111", address="風連町西町196番地1", meter_number="M-1", meter_diameter_mm=20)
        member = Member(email=email, nickname="水道太郎", password_hash=hash_password(MEMBER_PASSWORD))
        db.session.add_all([contract, member])
        db.session.flush()
        db.session.add(MemberContract(member_id=member.id, contract_id=contract.id))
        db.session.commit()
    return email, number


def new_operator(app, slug: str) -> str:
    email = f"madoguchi-{uuid.uuid4().hex[:8]}@example.jp"
    tenant = city(app, slug)
    with app.app_context(), tenant_context(tenant):
        create_staff(tenant, email, "operator", "窓口 担当", password=STAFF_PASSWORD)
        db.session.commit()
    return email


def receipt_number(page) -> str:
    expect(page.get_by_role("heading", name="お申込みを受け付けました")).to_be_visible()
    return page.locator("strong.num").inner_text()




@pytest.mark.browser
@pytest.mark.parametrize("slug, address", [("nayoro", "名寄市西3条南5丁目14番地"), ("kanazawa", "金沢市広坂1丁目1番1号")])
def test_a_new_resident_files_start_of_use_with_the_mailed_code(page, live_server, live_app, live_mail, slug, address):
    day = enable(live_app, slug)
    email = f"tennyu-{uuid.uuid4().hex[:6]}@example.jp"
    live_mail.clear()
    page.goto(live_server.url(slug, "/procedures/new/move_in"))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="認証コードを送信").click()
    live_mail.wait_for(1)
    page.get_by_label("認証コード").fill(find_code(live_mail.last_to(email)))
    page.get_by_role("button", name="次へ").click()

    page.locator("#f-address").fill(address)
    page.locator("#f-start_date").fill(day)
    page.locator("#f-name").fill("転入 一郎")
    page.locator("#f-name_kana").fill("てんにゅう いちろう")
    page.locator("#f-phone").fill("090-1234-5678")
    page.locator("#f-persons").fill("2")
    page.locator("#f-payment-1").check()
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url("**/procedures/receipt*")
    number = receipt_number(page)
    assert re.fullmatch(r"R\d{4}-\d{6}", number)
    assert address in page.locator("dl.facts").inner_text()
    live_mail.wait_for(2)
    mail = body_of(live_mail.last_to(email))
    assert number in mail


def set_status(page, number: str, status: str, message: str) -> None:
    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="各種お手続き").click()
    page.get_by_role("link", name=number).click()
    page.get_by_role("heading", name=re.compile(number)).wait_for()
    page.get_by_label("新しい状態").select_option(label=status)
    page.get_by_label("お客さまへのメッセージ").fill(message)
    page.get_by_role("button", name="状態を変更する").click()
    expect(page.locator(".flash")).to_contain_text(f"{number} を「{status}」にしました。")


def file_move_out(page, live_server, day: str) -> str:
    page.goto(live_server.url("nayoro", "/procedures/new/move_out"))
    page.locator("#f-contract_id").select_option(index=1)
    page.locator("#f-stop_date").fill(day)
    page.locator("#f-final_address").fill("札幌市中央区北1条西2丁目1番地")
    page.locator("#f-final_payment-2").check()
    page.locator("#f-contact_phone").fill("0165432111")
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url("**/procedures/receipt*")
    return receipt_number(page)


def file_direct_debit(page, live_server, _day: str) -> str:
    page.goto(live_server.url("nayoro", "/procedures/new/payment_method"))
    page.locator("#f-contract_id").select_option(index=1)
    page.locator("#f-method-1").check()
    page.locator("#f-bank").fill("0001")
    page.locator("#f-branch").fill("001")
    page.locator("#f-account_type-1").check()
    page.locator("#f-account_number").fill("1234567")
    page.locator("#f-holder_kana").fill("スイドウ タロウ")
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url("**/procedures/receipt*")
    number = receipt_number(page)
    assert "1234567" not in page.content()  # masked from here on
    return number


# What the member files: kind label -> (how, the operator's message at 処理中).
FILED = {
    "水道の使用中止": (file_move_out, "使用中止日に閉栓に伺います。"),
    "口座振替の申込・支払方法の変更": (file_direct_debit, "金融機関に口座を確認しています。"),
}


@pytest.mark.browser
def test_a_member_files_move_out_and_direct_debit_staff_process_and_the_billing_answer_completes(
        page, browser, live_server, live_app, live_mail, tmp_path):
    day = enable(live_app, "nayoro")
    email, _number = new_member(live_app, "nayoro")
    operator = new_operator(live_app, "nayoro")
    live_mail.clear()

    # The member files each procedure.
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_role("textbox", name="メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/mypage")
    numbers = {label: file(page, live_server, day) for label, (file, _message) in FILED.items()}
    live_mail.wait_for(len(numbers))

    # The operator takes them in hand (処理中) and hands them to the billing system.
    console = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP")
    staff = console.new_page()
    try:
        staff_login(staff, live_server, "nayoro", operator)
        for label, number in numbers.items():
            set_status(staff, number, "処理中", FILED[label][1])
        assert no_sideways_scroll(staff)
        exported = []
        for label in numbers:
            staff.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="各種お手続き").click()
            staff.get_by_role("link", name="料金システムへの出力").click()
            staff.get_by_label("種類").select_option(label=label)
            with staff.expect_download() as download:
                staff.get_by_role("button", name="CSVを出力する").click()
            path = tmp_path / download.value.suggested_filename
            download.value.save_as(path)
            rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
            exported += [row[0] for row in rows[1:]]
        assert sorted(exported) == sorted(numbers.values())
    finally:
        console.close()

    # The billing system answers with the export's 受付番号: all completed.
    answer = "receipt_number,status,message\n" + "".join(f"{n},完了,お手続きが完了しました。\n" for n in exported)
    tenant = city(live_app, "nayoro")
    with live_app.app_context(), tenant_context(tenant):
        result = import_status(tenant, answer.encode(), filename="answer.csv")
        assert result.ok and result.changed == len(numbers), result.errors
        db.session.commit()
    with live_app.app_context():
        send_due()

    # The member sees 完了 and has the mails (処理中 with the operator's message, then 完了).
    page.goto(live_server.url("nayoro", "/procedures/"))
    mails = [body_of(m) for m in live_mail.to(email)]
    for label, number in numbers.items():
        expect(page.locator("tr", has_text=number)).to_contain_text("完了")
        assert any(number in m and "完了" in m and "お手続きが完了しました。" in m for m in mails), number
        assert any(number in m and "処理中" in m and FILED[label][1] in m for m in mails), number
    assert not any("1234567" in m for m in mails)  # the account number is never mailed
