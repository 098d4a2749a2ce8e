"""「今回の請求金額のお知らせ」: one mail per new bill per opted-in member, never twice."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.admin.test_mail_fanout import add_members, counting
from tests.admin.test_mail_fanout import outbox as fanout_outbox
from tests.imports.helpers import bill_row, contract_row, csv_text
from tests.mypage.usage.conftest import history_rows
from waterportal.accounts.models import Member
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

NAYORO_NO, OTHER_NO = "00012345682", "00012345693"
KANAZAWA_NO = "0100012345"


def expand(app):
    """The outbox worker's first step: expand the pending mail jobs; return the mails queued."""
    with app.app_context():
        return expand_due()


def bill_mails(app, tenant):
    expand(app)
    with app.app_context(), tenant_context(tenant):
        return [(m.to_address, m.subject, m.body) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "bill_ready").order_by(OutboxMessage.id))]


def test_new_bills_are_mailed_once(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 2, newest="2026-09"))  # before: no member yet
    assert bill_mails(app, nayoro) == []
    october = bill_row(NAYORO_NO, "2026-10", water_charge="3309", sewer_charge="2200", tax="500", total="5509",
                       usage_m3="21", previous_reading="100", current_reading="121", due_date="2026-10-31")
    result, = load(nayoro, bills=[october])
    assert result.inserted == 1 and expand(app) == 1
    (to, subject, body), = bill_mails(app, nayoro)
    assert to == "hanako@example.jp"
    assert subject == "【名寄市上下水道ポータル】今回の請求金額のお知らせ(令和8年10月分)"  # Nayoro writes 和暦
    assert "花子 様" in body and "今回の請求金額: 5,509 円" in body and "使用量: 21 m³" in body
    assert "納期限: 令和8年10月31日" in body and "使用期間: 令和8年" in body and "末尾5682" in body and NAYORO_NO not in body
    assert "http://nayoro.localhost/mypage" in body
    # the same file again, and the bill paid later: nothing new, no mail
    again, = load(nayoro, bills=[october])
    assert again.unchanged == 1 and expand(app) == 0
    paid, = load(nayoro, bills=[{**october, "paid_on": "2026-10-20"}])
    assert paid.updated == 1 and expand(app) == 0
    assert len(bill_mails(app, nayoro)) == 1
    with app.app_context(), tenant_context(nayoro):
        stamped = db.session.scalars(select(Bill.billing_month).where(Bill.bill_notified_at.is_not(None))).all()
    assert stamped == ["2026-10"]


def test_who_gets_mail(app, nayoro, kanazawa, customer, load, clock):
    customer(nayoro, [NAYORO_NO])  # hanako: opted in
    customer(nayoro, [NAYORO_NO], email="family@example.jp", nickname="家族")  # second member, same contract
    customer(nayoro, [NAYORO_NO], email="quiet@example.jp", notify_bills=False)
    customer(nayoro, [NAYORO_NO], email="waiting@example.jp", data_visible_from=dt.date(2026, 11, 24))
    customer(nayoro, [OTHER_NO], email="other@example.jp")
    customer(kanazawa, [KANAZAWA_NO])  # same email in Kanazawa
    result, = load(nayoro, bills=[bill_row(NAYORO_NO, "2026-10"), bill_row(NAYORO_NO, "2026-11")])
    assert expand(app) == 2  # one mail each, for the latest of the two new bills
    mails = bill_mails(app, nayoro)
    assert sorted(to for to, _s, _b in mails) == ["family@example.jp", "hanako@example.jp"]
    assert [s[-9:] for to, s, _b in mails if to == "hanako@example.jp"] == ["令和8年11月分)"]
    assert bill_mails(app, kanazawa) == []


def test_a_history_load_mails_only_the_latest_bill(app, nayoro, customer, load, clock):
    """A city loading 24 months of history for existing members: one mail per member and contract."""
    customer(nayoro, [NAYORO_NO, OTHER_NO])
    customer(nayoro, [OTHER_NO], email="family@example.jp", nickname="家族")
    history = history_rows(NAYORO_NO, 24, newest="2026-10") + history_rows(OTHER_NO, 24, newest="2026-09", base=3)
    result, = load(nayoro, bills=history)
    assert result.inserted == 48
    mails = bill_mails(app, nayoro)  # (history_rows' use rises every month: the latest also has a leak notice)
    assert sorted((to, subject.rpartition("(")[2]) for to, subject, _b in mails) == [
        ("family@example.jp", "令和8年9月分)"), ("hanako@example.jp", "令和8年10月分)"),
        ("hanako@example.jp", "令和8年9月分)")]
    newest_other = history[-1]
    assert any(f"今回の請求金額: {int(newest_other['total']):,} 円" in body for to, _s, body in mails
               if to == "family@example.jp")
    with app.app_context(), tenant_context(nayoro):
        stamped = db.session.scalars(select(Bill.billing_month).where(Bill.bill_notified_at.is_not(None))
                                     .order_by(Bill.billing_month)).all()
    assert stamped == ["2026-09", "2026-10"]


def test_a_late_older_bill_mails_nobody(app, nayoro, customer, load, clock):
    """A backfilled month older than the contract's latest bill is history, not news."""
    customer(nayoro, [NAYORO_NO], bills=[bill_row(NAYORO_NO, "2026-10")])
    result, = load(nayoro, bills=[bill_row(NAYORO_NO, "2026-08")])
    assert result.inserted == 1 and expand(app) == 0
    # next month's bill is news again
    later, = load(nayoro, bills=[bill_row(NAYORO_NO, "2026-09"), bill_row(NAYORO_NO, "2026-11")])
    assert later.inserted == 2 and expand(app) == 1
    assert [subject[-9:] for _to, subject, _b in bill_mails(app, nayoro)] == ["令和8年11月分)"]


def test_kanazawa_bimonthly_bill_mail(app, kanazawa, customer, load, clock):
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 1, newest="2026-07", step=2))
    rows = history_rows(KANAZAWA_NO, 2, newest="2026-09", step=2)
    result, = load(kanazawa, bills=rows)
    assert result.inserted == 1 and expand(app) == 1
    (_to, subject, body), = bill_mails(app, kanazawa)
    assert subject == "【金沢市上下水道ポータルサイト】今回の請求金額のお知らせ(2026年09月分)"
    assert f"今回の請求金額: {int(rows[-1]['total']):,} 円" in body and "納期限: 2026/" in body  # 西暦 in Kanazawa
    assert "http://kanazawa.localhost/mypage" in body


def test_a_rejected_file_mails_nobody(app, nayoro, customer, load, clock):
    customer(nayoro, [NAYORO_NO])
    data = csv_text(BILL_COLUMNS, [bill_row(NAYORO_NO, "2026-10"), bill_row(NAYORO_NO, "2026-11", total="1")]).encode()
    with app.app_context(), tenant_context(nayoro):
        result = import_bills(nayoro, data)
        db.session.commit()
    assert not result.ok and result.mail_job is None and expand(app) == 0
    assert bill_mails(app, nayoro) == []


def test_a_cli_import_leaves_the_mail_to_the_worker(app, nayoro, customer, runner, tmp_path, clock):
    customer(nayoro, [NAYORO_NO])
    path = tmp_path / "bills.csv"
    path.write_text(csv_text(BILL_COLUMNS, [bill_row(NAYORO_NO, "2026-10")]), encoding="utf-8")
    result = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 0, result.output
    assert expand(app) == 1  # the import recorded the job; the worker queues the mail
    again = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(path)])
    assert again.exit_code == 0 and expand(app) == 0


def import_files(app, tenant, *, contracts=(), bills=()):
    with app.app_context(), tenant_context(tenant):
        results = []
        if contracts:
            results.append(import_contracts(tenant, csv_text(CONTRACT_COLUMNS, contracts).encode()))
        if bills:
            results.append(import_bills(tenant, csv_text(BILL_COLUMNS, bills).encode()))
        db.session.commit()
    assert all(r.ok for r in results), [r.errors for r in results]
    return results


def fast_customers(app, tenant, count, start):
    numbers = [f"{90000000000 + n:011d}" for n in range(start, start + count)]
    import_files(app, tenant, contracts=[contract_row(number) for number in numbers])
    add_members(app, tenant, count, start=start, every_third_opts_out=False)
    with app.app_context(), tenant_context(tenant):
        members = dict(db.session.execute(select(Member.email, Member.id)).all())
        by_number = dict(db.session.execute(select(Contract.customer_number, Contract.id)).all())
        for n, number in zip(range(start, start + count), numbers, strict=True):
            db.session.add(MemberContract(member_id=members[f"m{n}@example.jp"], contract_id=by_number[number]))
        db.session.commit()
    return numbers


def test_the_bills_import_writes_its_mail_in_a_constant_number_of_statements(app, nayoro, clock):
    few = fast_customers(app, nayoro, 2, start=0)
    many = fast_customers(app, nayoro, 20, start=100)
    with counting(app, "mail_") as small:
        import_files(app, nayoro, bills=[bill_row(number, "2026-10") for number in few])
    with counting(app, "mail_") as large:
        import_files(app, nayoro, bills=[bill_row(number, "2026-10") for number in many])
    # The INSERTs of the bill-mail job and the bill_pdfs job (billing.issuing), and the leak
    # step's primary-key read of the bill-mail job's watermark (billing.leaks; nothing flagged here).
    assert len(small) == len(large) == 3
    with app.app_context():
        assert expand_due() == 22
        assert expand_due() == 0
    rows = fanout_outbox(app, nayoro)
    assert len(rows) == 22 and {kind for _t, _m, kind, _j in rows} == {"bill_ready"}
    assert len({message_id for _t, message_id, _k, _j in rows}) == 22
