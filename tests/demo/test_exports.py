"""The demo data generator: realistic, valid, deterministic exports that the real import loads."""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import itertools
from collections import defaultdict
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from waterportal.billing import slip
from waterportal.billing.models import Bill
from waterportal.billing.tariff import estimate
from waterportal.contracts.models import Contract
from waterportal.core.text import is_katakana
from waterportal.core.time import is_business_day
from waterportal.demo.cities import KANAZAWA, NAYORO, PROFILES
from waterportal.demo.exports import (
    BILL_COLUMNS,
    CONTRACT_COLUMNS,
    fixed_contracts,
    generate_city,
    included_tax,
    month_index,
    write_city,
)
from waterportal.demo.members import DEMO_MEMBERS
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.tenancy.context import tenant_context

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 21)
# What the README tells testers to type; changing the generator must not move them.
README_CONTRACTS = {
    "nayoro": [("00012345671", "0165421234", "ナヨロタロウ"), ("00012345682", "0165435678", "フウレンハナコ")],
    "kanazawa": [("0100012345", "0762314567", "カナザワイチロウ"), ("0100012356", "0762314567", "カナザワイチロウ")],
}


def by_contract(bills: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for bill in bills:
        grouped[bill["customer_number"]].append(bill)
    return grouped


def month_of(billing_month: str) -> int:
    year, month = billing_month.split("-")
    return month_index(int(year), int(month))


def check_bill_arithmetic(bills: list[dict[str, str]]) -> None:
    for bill in bills:
        number = {k: int(bill[k]) for k in ("previous_reading", "current_reading", "usage_m3", "water_charge",
                                             "sewer_charge", "tax", "total")}
        assert number["usage_m3"] == number["current_reading"] - number["previous_reading"] >= 0, bill
        assert number["total"] == number["water_charge"] + number["sewer_charge"], bill
        assert number["tax"] == number["total"] * 10 // 110, bill
        assert bill["period_end"] == bill["reading_date"]
        assert bill["period_start"] < bill["period_end"]
        assert bill["billing_month"] == bill["reading_date"][:7]
        # Due at the end of the following month, or the next business day after it.
        year, month = (int(p) for p in bill["billing_month"].split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        month_end = dt.date(year, month, calendar.monthrange(year, month)[1])
        due = dt.date.fromisoformat(bill["due_date"])
        assert month_end <= due <= month_end + dt.timedelta(days=6) and is_business_day(due), bill
        if bill["paid_on"]:
            assert dt.date.fromisoformat(bill["paid_on"]) < TODAY


def check_chain(bills: list[dict[str, str]], step: int) -> None:
    """One contract's bills: ``step`` months apart, readings and periods continue each other."""
    for before, after in itertools.pairwise(bills):
        assert month_of(after["billing_month"]) - month_of(before["billing_month"]) == step
        assert after["previous_reading"] == before["current_reading"]
        start = dt.date.fromisoformat(after["period_start"])
        assert start == dt.date.fromisoformat(before["period_end"]) + dt.timedelta(days=1)


def test_nayoro_export_is_monthly_and_adds_up(nayoro):
    export = generate_city(NAYORO, nayoro.settings, 20, 26, TODAY)
    assert len(export.contracts) == 20
    numbers = [c["customer_number"] for c in export.contracts]
    assert len(set(numbers)) == 20 and all(len(n) == 11 and n.isdigit() for n in numbers)
    for contract in export.contracts:
        assert contract["phone"].startswith("01654-") and len(contract["phone"].replace("-", "")) == 10
        assert contract["address"].startswith("名寄市")
        assert contract["meter_diameter_mm"] in {"13", "20", "25"}
        assert is_katakana(contract["holder_name_kana"].replace(" ", ""))
    grouped = by_contract(export.bills)
    assert set(grouped) == set(numbers)
    # The suburbs (風連町, 智恵文) are read every two months (issue 12 §5), the centre monthly.
    suburbs = {c["customer_number"] for c in export.contracts if c["billing_cycle"] == "bimonthly"}
    assert "00012345671" in suburbs and "00012345682" not in suburbs
    assert suburbs == {c["customer_number"] for c in export.contracts if "風連町" in c["address"] or "智恵文" in c["address"]}
    assert all(c["billing_cycle"] in ("", "bimonthly") for c in export.contracts)
    for number, bills in grouped.items():
        if number in suburbs:
            assert len(bills) == 13 and bills[-1]["billing_month"] in ("2026-09", "2026-10")
            check_chain(bills, step=2)
        else:
            assert len(bills) == 26
            assert bills[-1]["billing_month"] == "2026-10"  # the month before today
            check_chain(bills, step=1)
    check_bill_arithmetic(export.bills)
    paid = sum(1 for b in export.bills if b["paid_on"])
    assert paid / len(export.bills) > 0.9
    # Open bills: the latest ones (口座振替 on the due date, late payers), a household in arrears
    # or the demo's 振替不能 example.
    delinquent = {h.customer_number for h in export.households if h.delinquent or h.failed_transfer}
    for bill in export.bills:
        if not bill["paid_on"] and bill["customer_number"] not in delinquent:
            assert dt.date.fromisoformat(bill["due_date"]) > TODAY - dt.timedelta(days=26), bill
    latest = [b for b in export.bills if b["billing_month"] == "2026-10"]
    assert sum(1 for b in latest if not b["paid_on"]) >= len(latest) / 2


def test_kanazawa_export_is_bimonthly_over_two_years(kanazawa):
    export = generate_city(KANAZAWA, kanazawa.settings, 20, 26, TODAY)
    numbers = [c["customer_number"] for c in export.contracts]
    assert all(len(n) == 10 and n.isdigit() for n in numbers)
    for contract in export.contracts:
        assert contract["phone"].startswith("076-") and len(contract["phone"].replace("-", "")) == 10
        assert contract["address"].startswith("金沢市")
    grouped = by_contract(export.bills)
    last_months = set()
    for bills in grouped.values():
        assert len(bills) == 13
        check_chain(bills, step=2)
        first, last = dt.date.fromisoformat(bills[0]["period_start"]), dt.date.fromisoformat(bills[-1]["period_end"])
        assert (last - first).days >= 730  # 24+ months of usage
        last_months.add(bills[-1]["billing_month"])
    # Two reading groups (odd and even months), both ending before today's month.
    assert last_months == {"2026-09", "2026-10"}
    check_bill_arithmetic(export.bills)


def test_tariffs_are_the_citys_tariff_with_tax_included(nayoro, kanazawa):
    # 名寄市 13 mm, 20 m³ in one month: 1,320 + 10 x 150 + 10 x 200 = 4,820 yen before tax, 5,302 with it.
    charge = estimate(nayoro.settings["tariff"], 13, 20)
    assert (charge.charges[0].before_tax, charge.water) == (4_820, 5_302)
    # 金沢市 13 mm, 28 m³ over two months: tiers twice as wide: 2 x 600 + 20 x 60 + 8 x 150.
    assert estimate(kanazawa.settings["tariff"], 13, 28, months=2).charges[0].before_tax == 3_600
    assert estimate(kanazawa.settings["tariff"], 13, 0, months=2).charges[1].before_tax == 1_000
    assert included_tax(11_000) == 1_000


def test_rural_nayoro_contracts_pay_no_sewer_charge(nayoro):
    export = generate_city(NAYORO, nayoro.settings, 120, 3, TODAY)
    rural = {h.customer_number for h in export.households if not h.has_sewer}
    assert rural, "some contracts should be in 字 areas without public sewer"
    for bill in export.bills:
        assert (bill["sewer_charge"] == "0") == (bill["customer_number"] in rural)


def test_files_use_each_city_encoding(nayoro, kanazawa, tmp_path):
    write_city(tmp_path, generate_city(NAYORO, nayoro.settings, 20, 24, TODAY))
    write_city(tmp_path, generate_city(KANAZAWA, kanazawa.settings, 20, 24, TODAY))
    utf8 = (tmp_path / "nayoro" / "contracts.csv").read_bytes()
    assert "名寄市".encode() in utf8 and b"\r\n" not in utf8
    sjis = (tmp_path / "kanazawa" / "contracts.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        sjis.decode("utf-8")
    text = sjis.decode("cp932")
    assert "金沢市" in text and "ｶﾅｻﾞﾜ ｲﾁﾛｳ" in text and sjis.count(b"\r\n") == 21
    for slug in ("nayoro", "kanazawa"):
        encoding = PROFILES[slug].encoding
        for name, columns in (("contracts.csv", CONTRACT_COLUMNS), ("bills.csv", BILL_COLUMNS)):
            content = (tmp_path / slug / name).read_text(encoding=encoding)
            header = next(csv.reader(io.StringIO(content)))
            assert tuple(header) == columns


def test_generation_is_deterministic_and_stable_across_months(nayoro, tmp_path):
    first = write_city(tmp_path / "a", generate_city(NAYORO, nayoro.settings, 20, 24, TODAY))
    second = write_city(tmp_path / "b", generate_city(NAYORO, nayoro.settings, 20, 24, TODAY))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other_seed = generate_city(NAYORO, nayoro.settings, 20, 24, TODAY, seed="another")
    assert other_seed.contracts[2:] != generate_city(NAYORO, nayoro.settings, 20, 24, TODAY).contracts[2:]
    # A month later the same bills come out again (only payments may appear) plus one new month.
    bills = generate_city(NAYORO, nayoro.settings, 20, 24, TODAY).bills
    now = {(b["customer_number"], b["billing_month"]): b for b in bills}
    later = generate_city(NAYORO, nayoro.settings, 20, 24, dt.date(2026, 12, 21)).bills
    overlap = [b for b in later if (b["customer_number"], b["billing_month"]) in now]
    oldest = min(b["billing_month"] for b in bills)
    assert len(overlap) == len(bills) - sum(1 for b in bills if b["billing_month"] == oldest)
    # The fixed demo examples (振替不能 on the newest past-due bill, the newest bill's 通信欄) move on.
    # So does the demo leak (the newest bill's jump, issue 14 §1): the older bill reads normally again.
    examples = {h.customer_number for h in NAYORO.fixed if h.failed_transfer or h.message or h.leak_m3}
    moved = ("paid_on", "transfer_result", "message", "current_reading", "usage_m3", "water_charge", "sewer_charge",
             "tax", "total", "payment_barcode")
    for bill in overlap:
        old = now[(bill["customer_number"], bill["billing_month"])]
        if bill["customer_number"] in examples:
            old, bill = ({**b, **dict.fromkeys(moved, "")} for b in (old, bill))
        # Only the payment may appear: 納付日 and the bank's 振替結果 once the due date has passed
        # (and the 電子納付書's barcode goes with the payment).
        paid = {"paid_on": "", "transfer_result": "", "payment_barcode": ""}
        assert {**bill, **paid} == {**old, **paid}
        assert not old["paid_on"] or old["paid_on"] == bill["paid_on"]
        assert not old["transfer_result"] or old["transfer_result"] == bill["transfer_result"]


def test_fixed_demo_contracts_come_first_and_match_the_readme(nayoro, kanazawa):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for city in (nayoro, kanazawa):
        profile = PROFILES[city.slug]
        export = generate_city(profile, city.settings, 5, 24, TODAY)
        typed = [(h.customer_number, h.phone, h.holder_name_kana) for h in fixed_contracts(profile)]
        assert typed == README_CONTRACTS[city.slug]
        assert [c["customer_number"] for c in export.contracts[:2]] == [t[0] for t in typed]
        for number, phone, kana in typed:
            assert number in readme and phone in readme and kana in readme
        member = DEMO_MEMBERS[city.slug]
        assert f"`{member.password}`" in readme and f"`{member.login_id or member.email}`" in readme


def test_cli_generates_both_cities_and_lists_demo_contracts(runner, app_ctx, tmp_path):
    with time_machine.travel(dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC), tick=False):
        result = runner.invoke(args=["demo", "generate", "--contracts", "5", "--months", "24", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "nayoro: 5 contracts" in result.output and "kanazawa: 5 contracts" in result.output
    bills = (tmp_path / "kanazawa" / "bills.csv").read_text(encoding="cp932").splitlines()
    assert len(bills) == 1 + 5 * 12
    assert bills[-1].split(",")[1] in {"2026-09", "2026-10"}
    listed = runner.invoke(args=["demo", "contracts", "--tenant", "nayoro"])
    assert listed.exit_code == 0, listed.output
    assert "00012345671" in listed.output and "ナヨロタロウ" in listed.output
    assert "http://nayoro.localhost" in listed.output and "0100012345" not in listed.output
    assert "demo@nayoro.localhost" in listed.output
    unknown = runner.invoke(args=["demo", "generate", "--tenant", "asahikawa", str(tmp_path)])
    assert unknown.exit_code != 0 and "no demo profile" in unknown.output


@pytest.mark.parametrize("slug, encoding", [("nayoro", "utf-8"), ("kanazawa", "cp932")])
def test_real_import_loads_the_demo_files(app_ctx, nayoro, kanazawa, tmp_path, slug, encoding):
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    export = generate_city(PROFILES[slug], tenant.settings, 20, 24, TODAY)
    contracts_path, bills_path = write_city(tmp_path, export)
    loaded = import_contracts(tenant, contracts_path, filename="contracts.csv", actor="test")
    assert loaded.ok, loaded.errors
    assert (loaded.encoding, loaded.inserted) == (encoding, 20)
    billed = import_bills(tenant, bills_path, filename="bills.csv", actor="test")
    assert billed.ok, billed.errors
    monthly = sum(1 for c in export.contracts if not c["billing_cycle"] and slug == "nayoro")
    assert billed.inserted == len(export.bills) == 24 * monthly + 12 * (20 - monthly)
    db.session.commit()
    again = import_bills(tenant, bills_path, filename="bills.csv", actor="test")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(export.bills))
    with tenant_context(tenant):
        assert db.session.scalar(select(func.count()).select_from(Contract)) == 20
        assert db.session.scalar(select(func.count()).select_from(Bill)) == len(export.bills)
        number, phone, kana = README_CONTRACTS[slug][0]
        contract = db.session.scalars(select(Contract).where(Contract.customer_number == number)).one()
        assert (contract.phone, contract.holder_name_kana) == (phone, kana)


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_demo_member_logs_in_and_sees_data_today(app_ctx, nayoro, kanazawa, tmp_path, slug):
    from waterportal.accounts.services import authenticate
    from waterportal.contracts.models import MemberContract
    from waterportal.core.auth.passwords import password_problems
    from waterportal.demo.members import ensure_demo_member
    from waterportal.mail.models import OutboxMessage

    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    contracts_path, _bills = write_city(tmp_path, generate_city(PROFILES[slug], tenant.settings, 3, 24, TODAY))
    assert import_contracts(tenant, contracts_path, filename="contracts.csv", actor="test").ok
    spec, created = ensure_demo_member(tenant, TODAY)
    db.session.commit()
    assert created
    assert ensure_demo_member(tenant, TODAY) == (spec, False)
    assert password_problems(spec.password, tenant.settings["password_policy"]) == []
    with tenant_context(tenant):
        result = authenticate(tenant, spec.login_id or spec.email, spec.password, "127.0.0.1")
        assert result.account is not None and result.account.data_visible_from == TODAY
        links = db.session.scalars(select(MemberContract).where(MemberContract.member_id == result.account.id)).all()
        assert len(links) == len(DEMO_MEMBERS[slug].customer_numbers)
        # No welcome mail announcing a wait the demo member does not have.
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == spec.email)).all() == []


def test_cli_members_needs_the_contracts_first(runner, app_ctx):
    result = runner.invoke(args=["demo", "members", "--tenant", "nayoro"])
    assert result.exit_code != 0 and "00012345682" in result.output


@pytest.mark.parametrize("slug, failed, message", [("nayoro", "00012345682", "00012345682"),
                                                   ("kanazawa", "0100012356", "0100012345")])
def test_the_demo_shows_payment_details(app_ctx, nayoro, kanazawa, tmp_path, slug, failed, message):
    """Issue 12 §3: every bill has its payment method; the demo member's contracts carry a
    振替不能 (資金不足, still open) and a 通信欄; a long suburban contract is bimonthly."""
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    export = generate_city(PROFILES[slug], tenant.settings, 20, 24, TODAY)
    assert {b["payment_method"] for b in export.bills} == {"口座振替", "納付書"}
    transferred = [b for b in export.bills if b["payment_method"] == "口座振替"]
    assert all(b["transfer_date"] == b["due_date"] for b in transferred)
    assert {b["transfer_result"] for b in transferred if b["due_date"] < TODAY.isoformat()} <= {"0", "1"}
    failures = [b for b in export.bills if b["transfer_result"] == "1"]
    assert any(b["customer_number"] == failed and not b["paid_on"] for b in failures)
    assert all(not b["paid_on"] for b in failures)
    newest = by_contract(export.bills)[message][-1]
    assert newest["message"]
    # Every open bill has its 電子納付書 barcode, right for its amount and due date; paid ones none.
    for bill in export.bills:
        if bill["paid_on"]:
            assert bill["payment_barcode"] == ""
        else:
            assert slip.problems(bill["payment_barcode"], total=int(bill["total"]),
                                 due_date=dt.date.fromisoformat(bill["due_date"])) == []
    write_city(tmp_path, export)
    assert import_contracts(tenant, tmp_path / slug / "contracts.csv", actor="test").ok
    assert import_bills(tenant, tmp_path / slug / "bills.csv", actor="test").ok
    with tenant_context(tenant):
        cycles = dict(db.session.execute(select(Contract.customer_number, Contract.billing_cycle)).all())
    assert (cycles.get("00012345671"), cycles.get("00012345682")) == (("bimonthly", None) if slug == "nayoro"
                                                                        else (None, None))
    # The demo member's 収納済証明書 of its newest paid bill: issued once, the same row again.
    from waterportal.demo.members import ensure_demo_certificate, ensure_demo_member
    ensure_demo_member(tenant, TODAY)
    now = dt.datetime(2026, 11, 21, 1, 0)
    certificate = ensure_demo_certificate(tenant, now)
    db.session.commit()
    with tenant_context(tenant):  # the row is the city's (row security on PostgreSQL)
        assert certificate is not None and certificate.data.startswith(b"%PDF")
        first = (certificate.id, certificate.month_from, certificate.month_to)
    assert ensure_demo_certificate(tenant, now).id == first[0]
    paid = [b for b in by_contract(export.bills)[DEMO_MEMBERS[slug].customer_numbers[0]] if b["paid_on"]]
    assert first[1] == first[2] == paid[-1]["billing_month"]
