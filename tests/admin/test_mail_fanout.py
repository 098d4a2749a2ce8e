"""Issue 10: notice mail fans out in the outbox worker, not in the staff request
(waterportal.mail.jobs); the console counts a notice's mails. Bill mail: tests/billing/test_bill_mail.py."""
from __future__ import annotations

import contextlib
import datetime as dt

import time_machine
from sqlalchemy import event, select

from tests.admin.test_notices import NOW, notice_form
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.mail import jobs
from waterportal.mail.jobs import expand_due
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.mail.sender import send_due
from waterportal.tenancy.context import tenant_context

PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$bm90LWEtcmVhbC1oYXNo$bm90LWEtcmVhbC1oYXNo"  # never used to log in


def add_members(app, tenant, count, start=0, every_third_opts_out=True) -> list[str]:
    """``count`` members (no password hashing: fast); returns the addresses that opted in."""
    wanted = []
    with app.app_context(), tenant_context(tenant):
        for n in range(start, start + count):
            opted_in = not (every_third_opts_out and n % 3 == 2)
            db.session.add(Member(email=f"m{n}@example.jp", login_id=f"member-{n}", nickname=f"会員{n}",
                                  password_hash=PASSWORD_HASH, notify_notices=opted_in, notify_bills=opted_in))
            if opted_in:
                wanted.append(f"m{n}@example.jp")
        db.session.commit()
    return wanted


@contextlib.contextmanager
def counting(app, match=""):
    """Count the SQL statements sent to the database (those containing ``match``)."""
    with app.app_context():
        engine = db.engine
    seen = []

    def count(_conn, _cursor, statement, _parameters, _context, _many):
        if match in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def outbox(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return db.session.execute(
            select(OutboxMessage.to_address, OutboxMessage.message_id, OutboxMessage.kind, OutboxMessage.job_id)
            .order_by(OutboxMessage.id)).all()


def test_the_staff_post_costs_the_same_statements_for_3_or_300_members(app, staff_client, kanazawa):
    client = staff_client("kanazawa")
    with time_machine.travel(NOW, tick=False):
        client.submit("/admin/notices/new", notice_form(title="準備"))  # warm caches
        add_members(app, kanazawa, 3)
        with counting(app) as few:
            assert client.submit("/admin/notices/new", notice_form(title="三人へ", mail_members="y")).status_code == 302
        add_members(app, kanazawa, 297, start=3)
        with counting(app) as many:
            assert client.submit("/admin/notices/new", notice_form(title="三百人へ", mail_members="y")).status_code == 302
    assert len(few) == len(many), (len(few), len(many))
    assert outbox(app, kanazawa) == []  # the worker queues them
    with app.app_context(), tenant_context(kanazawa):
        assert db.session.scalars(select(MailJob.status)).all() == ["pending", "pending"]


def test_the_worker_queues_one_mail_per_opted_in_member_never_twice(app, staff_client, kanazawa, nayoro,
                                                                   monkeypatch, audit_entries):
    wanted = add_members(app, kanazawa, 30)
    add_members(app, nayoro, 5)  # another city's members get nothing
    client = staff_client("kanazawa")
    with time_machine.travel(NOW, tick=False):
        client.submit("/admin/notices/new", notice_form(title="断水", mail_members="y"))

        # A worker that fails half-way writes nothing and leaves the job pending (one transaction),
        # backing off a minute (mail.jobs; tests/mail/test_job_retries.py).
        expand_notice = jobs.EXPANDERS["notice"]

        def crash(tenant, job, now):
            expand_notice(tenant, job, now)
            raise RuntimeError("worker killed")

        monkeypatch.setitem(jobs.EXPANDERS, "notice", crash)
        monkeypatch.setitem(jobs.EXPANDERS, "other", lambda _tenant, _job, _now: 0)
        client.submit("/admin/notices/new", notice_form(title="次の", important=None))  # no mail: no job
        with app.app_context(), tenant_context(nayoro):
            db.session.add(MailJob(kind="other", ref_id=0))  # a later job of another city: not held up
            db.session.commit()
        with app.app_context():
            assert expand_due() == 0
        assert outbox(app, kanazawa) == []
        with app.app_context(), tenant_context(nayoro):
            assert db.session.scalars(select(MailJob.status)).all() == ["done"]
        monkeypatch.setitem(jobs.EXPANDERS, "notice", expand_notice)

        with app.app_context():
            assert expand_due() == 0  # backing off
            assert expand_due(now=NOW.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)) == len(wanted) == 20
            assert expand_due() == 0  # run twice: nothing more
    rows = outbox(app, kanazawa)
    assert sorted(to for to, *_ in rows) == sorted(wanted)
    assert len({message_id for _to, message_id, *_ in rows}) == 20
    assert all(message_id.endswith("@kanazawa.localhost>") for _to, message_id, *_ in rows)
    assert {(kind, job) for _to, _m, kind, job in rows} == {("notice", rows[0].job_id)}
    assert outbox(app, nayoro) == []
    assert [e[3] for e in audit_entries(kanazawa, "notice.mail")] == [{"recipients": 20}]


def test_a_member_who_joins_after_the_post_is_not_mailed(app, staff_client, kanazawa):
    add_members(app, kanazawa, 2, every_third_opts_out=False)
    client = staff_client("kanazawa")
    with time_machine.travel(NOW, tick=False):
        client.submit("/admin/notices/new", notice_form(title="断水", mail_members="y"))
        add_members(app, kanazawa, 1, start=2, every_third_opts_out=False)  # before the worker came
        with app.app_context():
            assert expand_due() == 2
    assert sorted(to for to, *_ in outbox(app, kanazawa)) == ["m0@example.jp", "m1@example.jp"]


def test_the_console_counts_the_mails_of_a_notice(app, staff_client, kanazawa, smtp_server):
    add_members(app, kanazawa, 3)  # two opted in
    client = staff_client("kanazawa")
    with time_machine.travel(NOW, tick=False):
        response = client.submit("/admin/notices/new", notice_form(title="断水", mail_members="y"))
        assert response.status_code == 302
        page = client.get("/admin/notices").get_data(as_text=True)
        assert "断水" in page and "掲載中" in page and "宛先を準備中です。" in page
        with app.app_context():
            assert expand_due() == 2
        page = client.get("/admin/notices").get_data(as_text=True)
        assert "2通のうち 送信済み 0通・送信待ち 2通" in page
        with app.app_context():
            assert send_due().sent == 2
        page = client.get("/admin/notices").get_data(as_text=True)
        assert "2通のうち 送信済み 2通・送信待ち 0通" in page
    assert len(smtp_server.wait_for(2)) == 2


def test_the_console_says_when_a_notices_mail_could_not_be_prepared(app, staff_client, kanazawa, monkeypatch):
    """A notice whose job gave up (mail.jobs: MAIL_JOB_MAX_ATTEMPTS failed expansions) does not
    claim its recipients are still being prepared; the retention keeps the counts (tests/mail)."""
    add_members(app, kanazawa, 2)
    client = staff_client("kanazawa")

    def crash(_tenant, _job, _now):
        raise RuntimeError("template missing")

    monkeypatch.setitem(jobs.EXPANDERS, "notice", crash)
    with time_machine.travel(NOW, tick=False):
        client.submit("/admin/notices/new", notice_form(title="断水", mail_members="y"))
        moment = NOW.astimezone(dt.UTC).replace(tzinfo=None)
        with app.app_context():
            for _ in range(app.config["MAIL_JOB_MAX_ATTEMPTS"]):
                assert expand_due(now=moment) == 0
                moment += dt.timedelta(hours=1)
        page = client.get("/admin/notices").get_data(as_text=True)
    assert "宛先の準備に失敗しました。" in page and "宛先を準備中です。" not in page
