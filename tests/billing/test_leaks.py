"""漏水の可能性 (issue 14 §1): the bills import flags a new bill whose usage jumped (the city's
thresholds, the contract's cycle), once; the worker mails each flagged bill once to the
linked members who want it, in their language, through the real SMTP helper."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from tests.admin.test_mail_fanout import counting
from tests.imports.helpers import bill_row, csv_text
from tests.mypage.usage.conftest import months_back
from waterportal.accounts.models import Member
from waterportal.billing.leaks import BillAlert
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.imports.services import import_bills
from waterportal.imports.validation import BILL_COLUMNS
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import send_due
from waterportal.tenancy.context import tenant_context

NAYORO_NO, OTHER_NO, THIRD_NO = "00012345682", "00012345693", "00012345704"
KANAZAWA_NO = "0100012345"


def usage_rows(number: str, usages: list[int], *, newest: str = "2026-10", step: int = 1) -> list[dict]:
    """Valid bills for ``number`` with these usages (oldest first), ``step`` months apart."""
    rows, reading = [], 1000
    for month, usage in zip(months_back(newest, len(usages), step), usages, strict=True):
        year, mon = map(int, month.split("-"))
        water, sewer = 1000 + 100 * usage, 500 + 50 * usage
        total = water + sewer
        rows.append(bill_row(
            number, month, period_start=f"{year:04d}-{mon:02d}-01", period_end=f"{year:04d}-{mon:02d}-20",
            reading_date=f"{year:04d}-{mon:02d}-20", previous_reading=str(reading), current_reading=str(reading + usage),
            usage_m3=str(usage), water_charge=str(water), sewer_charge=str(sewer), tax=str(total * 10 // 110),
            total=str(total), due_date=f"{year:04d}-{mon:02d}-28"))
        reading += usage
    return rows


def alerts(app, tenant) -> list[tuple[str, str, int, int, int]]:
    """(customer number, billing month, usage, last year, usual) of the city's leak alerts."""
    with app.app_context(), tenant_context(tenant):
        return [tuple(row) for row in db.session.execute(
            select(Contract.customer_number, Bill.billing_month, BillAlert.usage_m3, BillAlert.last_year_m3,
                   BillAlert.usual_m3)
            .join(Bill, Bill.id == BillAlert.bill_id).join(Contract, Contract.id == BillAlert.contract_id)
            .where(BillAlert.kind == "leak").order_by(Contract.customer_number, Bill.billing_month))]


def leak_mails(app, tenant) -> list[tuple[str, str, str]]:
    """Expand the pending jobs (the worker's first step); the city's leak mails (to, subject, body)."""
    with app.app_context():
        expand_due()
    with app.app_context(), tenant_context(tenant):
        return [(m.to_address, m.subject, m.body) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "leak_notice").order_by(OutboxMessage.id))]


def with_insight(tenant, **values):
    """The city with other ``[insight]`` thresholds (what the console's settings change)."""
    return dataclasses.replace(tenant, settings={**tenant.settings, "insight": {**tenant.settings["insight"], **values}})


def import_as(app, tenant, rows):
    with app.app_context(), tenant_context(tenant):
        result = import_bills(tenant, csv_text(BILL_COLUMNS, rows).encode())
        db.session.commit()
    assert result.ok, result.errors
    return result


def test_a_jump_is_flagged_once_and_mailed_once(app, nayoro, customer, load, clock, smtp_server):
    history = usage_rows(NAYORO_NO, [20] * 12, newest="2026-09")  # 2025-10 .. 2026-09: 20 m³ each
    customer(nayoro, [NAYORO_NO], bills=history)
    october = usage_rows(NAYORO_NO, [20] * 12 + [31], newest="2026-10")[-1]  # 1.55 x last October, +11 m³
    result, = load(nayoro, bills=[october])
    assert result.inserted == 1
    assert alerts(app, nayoro) == [(NAYORO_NO, "2026-10", 31, 20, 20)]
    (to, subject, body), = leak_mails(app, nayoro)
    assert to == "hanako@example.jp"
    assert subject == "【名寄市上下水道ポータル】漏水の可能性のお知らせ(令和8年10月分)"  # Nayoro writes 和暦
    assert "花子 様" in body and "今回の使用量(31 m³)が、昨年の同じ時期(20 m³)より大きく増えています。" in body
    assert "すべて閉めて" in body and "パイロット" in body and "末尾5682" in body and NAYORO_NO not in body
    assert "http://nayoro.localhost/mypage" in body
    with app.app_context():
        assert send_due().sent >= 1
    delivered, = [m for m in smtp_server.wait_for(1) if m["Subject"].endswith("漏水の可能性のお知らせ(令和8年10月分)")]
    assert delivered["To"] == "hanako@example.jp"
    # the same file again, the bill paid, and a second job over the same bills: no second mail
    again, = load(nayoro, bills=[october])
    paid, = load(nayoro, bills=[{**october, "paid_on": "2026-10-20"}])
    assert again.unchanged == 1 and paid.updated == 1
    with app.app_context(), tenant_context(nayoro):
        from waterportal.billing.leak_mail import record_leak_mail_for_links

        record_leak_mail_for_links(nayoro)
        db.session.commit()
    assert len(leak_mails(app, nayoro)) == 1 and len(alerts(app, nayoro)) == 1


@pytest.mark.parametrize(("last_year", "now", "flagged"), [
    (20, 30, True),  # 1.5 x and +10: both
    (4, 8, False),  # 2 x but only +4 m³ (below leak_min_m3 5)
    (40, 50, False),  # +10 m³ but only 1.25 x
    (10, 15, True),  # exactly 1.5 x and +5: the thresholds are inclusive
    (0, 25, False),  # nothing used last year (an empty house): no history
])
def test_ratio_and_minimum_are_both_needed(app, nayoro, customer, load, clock, last_year, now, flagged):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [last_year] * 12 + [now], newest="2026-10"))
    assert bool(alerts(app, nayoro)) is flagged


def test_the_usual_range_and_the_citys_thresholds(app, nayoro, customer, clock):
    # Last October 10 m³, now 20 (2 x, +10), but 25 m³ three bills ago: within the usual range.
    rows = usage_rows(NAYORO_NO, [10, 10, 10, 10, 10, 10, 10, 10, 25, 10, 10, 10, 20], newest="2026-10")
    customer(nayoro, [NAYORO_NO])
    import_as(app, nayoro, rows)
    assert alerts(app, nayoro) == []
    # A city that counts only the 2 bills before as usual: flagged (a later import, a new bill).
    customer(nayoro, [OTHER_NO], email="other@example.jp")
    import_as(app, with_insight(nayoro, leak_usual_bills=2), usage_rows(OTHER_NO, [10] * 8 + [25, 10, 10, 10, 20]))
    assert alerts(app, nayoro) == [(OTHER_NO, "2026-10", 20, 10, 10)]
    # A stricter ratio (2.5 x) or minimum (15 m³) flags nothing; leak_enabled false skips the step.
    customer(nayoro, [THIRD_NO], email="third@example.jp")
    for strict in ({"leak_ratio": 2.5}, {"leak_min_m3": 15}, {"leak_enabled": False}):
        with counting(app, "bill_alerts") as seen:
            import_as(app, with_insight(nayoro, **strict), usage_rows(THIRD_NO, [10] * 12 + [20]))
        assert len(alerts(app, nayoro)) == 1
        assert len(seen) == (0 if strict == {"leak_enabled": False} else 1)  # nothing flagged: no mark
        with app.app_context(), tenant_context(nayoro):  # the next threshold judges a new bill again
            db.session.execute(Bill.__table__.delete().where(Bill.contract_id.in_(
                select(Contract.id).where(Contract.customer_number == THIRD_NO))))
            db.session.commit()


def test_no_history_no_notice(app, nayoro, customer, clock):
    customer(nayoro, [NAYORO_NO])
    import_as(app, nayoro, usage_rows(NAYORO_NO, [5, 5, 5, 5, 5, 40], newest="2026-10"))  # no October 2025
    assert alerts(app, nayoro) == []


def test_only_the_contracts_newest_bill_is_news(app, nayoro, customer, clock):
    """A history load flags at most the newest month; a backfilled older month flags nothing."""
    customer(nayoro, [NAYORO_NO])
    rows = usage_rows(NAYORO_NO, [10] * 12 + [30, 10, 10], newest="2026-10")  # the jump was in August
    import_as(app, nayoro, rows)
    assert alerts(app, nayoro) == []
    customer(nayoro, [OTHER_NO], email="other@example.jp")
    later = usage_rows(OTHER_NO, [10] * 12 + [30, 10], newest="2026-09")
    import_as(app, nayoro, later[-1:])  # September first, then the older August with its jump
    import_as(app, nayoro, later[:-1])
    assert alerts(app, nayoro) == []


def test_kanazawa_bimonthly_compares_two_months_with_the_same_two_months(app, kanazawa, customer, clock):
    rows = usage_rows(KANAZAWA_NO, [40] * 6 + [62], newest="2026-09", step=2)  # 2025-09 ... 2026-09
    assert [row["billing_month"] for row in rows][:1] == ["2025-09"]
    customer(kanazawa, [KANAZAWA_NO], bills=rows[:-1], login_id="hanako-id")
    import_as(app, kanazawa, rows[-1:])
    assert alerts(app, kanazawa) == [(KANAZAWA_NO, "2026-09", 62, 40, 40)]
    (_to, subject, body), = leak_mails(app, kanazawa)
    assert subject == "【金沢市上下水道ポータルサイト】漏水の可能性のお知らせ(2026年09月分)"
    assert "請求月: 2026年09月(2か月分)" in body and "(62 m³)" in body


def test_a_correction_does_not_flag_and_a_flagged_bill_is_mailed_once(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [20] * 12, newest="2026-09"))
    normal, jumped = (usage_rows(NAYORO_NO, [20] * 12 + [usage], newest="2026-10")[-1] for usage in (21, 45))
    load(nayoro, bills=[normal])
    fixed, = load(nayoro, bills=[jumped])  # the billing system corrects October: 45 m³
    assert fixed.updated == 1 and alerts(app, nayoro) == []
    assert leak_mails(app, nayoro) == []


def test_a_member_who_opted_out_gets_no_mail(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [20] * 12, newest="2026-09"), notify_leak=False)
    customer(nayoro, [NAYORO_NO], email="family@example.jp", nickname="家族")
    customer(nayoro, [NAYORO_NO], email="waiting@example.jp", data_visible_from=dt.date(2026, 11, 24))
    load(nayoro, bills=usage_rows(NAYORO_NO, [20] * 12 + [40], newest="2026-10")[-1:])
    assert [to for to, _s, _b in leak_mails(app, nayoro)] == ["family@example.jp"]


def test_the_mail_is_in_the_members_language(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [20] * 12, newest="2026-09"), language="en")
    load(nayoro, bills=usage_rows(NAYORO_NO, [20] * 12 + [40], newest="2026-10")[-1:])
    (_to, subject, body), = leak_mails(app, nayoro)
    assert "October 2026" in subject and "漏水" not in subject
    assert "40 m³" in body and "pilot" in body.lower()


def test_nobody_to_mail_leaves_the_alert_unmailed(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [20] * 12, newest="2026-09"), notify_leak=False)
    load(nayoro, bills=usage_rows(NAYORO_NO, [20] * 12 + [40], newest="2026-10")[-1:])
    assert leak_mails(app, nayoro) == []
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(BillAlert.mailed_at)) is None
        assert db.session.scalar(select(Member.notify_leak)) is False


def test_the_check_is_one_statement_whatever_the_number_of_bills(app, nayoro, clock):
    from tests.billing.test_bill_mail import fast_customers, import_files

    few = fast_customers(app, nayoro, 2, start=0)
    many = fast_customers(app, nayoro, 20, start=100)
    for numbers in (few, many):
        import_files(app, nayoro, bills=[row for n in numbers for row in usage_rows(n, [10] * 12, newest="2026-09")])
    with counting(app, "bill_alerts") as small:
        import_files(app, nayoro, bills=[usage_rows(n, [10] * 12 + [30])[-1] for n in few])
    with counting(app, "bill_alerts") as large:
        import_files(app, nayoro, bills=[usage_rows(n, [10] * 12 + [30])[-1] for n in many])
    assert len(small) == len(large) == 2  # the INSERT ... SELECT and the bills' mark (UPDATE ... IN (SELECT))
    assert len(alerts(app, nayoro)) == 22
    with app.app_context():
        assert expand_due() >= 22  # the bill mail and the leak mail of every member
    assert len(leak_mails(app, nayoro)) == 22
