"""Issue 9 #7: no failure between the SMTP server's "250 OK" and the record sends a mail twice.

Every test counts what the real SMTP server (tests/smtp.py) received. Faults are injected
into the database, not the sender: a DBAPI ``OperationalError`` raised on the statement
that records the outcome, as a locked SQLite or a dropped PostgreSQL connection raises it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading

import pytest
from sqlalchemy import event, select

from tests.admin.test_live_settings import two_workers  # noqa: F401 (fixture)
from tests.smtp import SmtpServer, mail_pointed_at
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import send_due
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def queue(tenant, to="taro@example.jp"):
    with tenant_context(tenant):
        message_id = queue_mail(tenant, to, "check").id
    db.session.commit()
    return message_id


def row(tenant, message_id):
    with tenant_context(tenant):
        return db.session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id)).scalar_one()


@contextlib.contextmanager
def record_fails(times: int):
    """The next ``times`` statements that record a mail as sent fail like a locked database."""
    engine = db.engine
    dbapi_error = engine.dialect.loaded_dbapi.OperationalError
    left = [times]

    def fail(_conn, _cursor, statement, parameters, _context, _many):
        recording_sent = statement.lstrip().upper().startswith("UPDATE MAIL_OUTBOX") and "sent" in repr(parameters)
        if recording_sent and left[0] > 0:
            left[0] -= 1
            raise dbapi_error("database is locked")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield left
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def lease(app) -> dt.timedelta:
    return dt.timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"])


def test_the_message_id_is_fixed_when_the_mail_is_queued(app_ctx, nayoro, smtp_server):
    message_id = queue(nayoro)
    stored = row(nayoro, message_id).message_id

    send_due()

    assert stored and stored.endswith("@nayoro.localhost>")
    assert smtp_server.wait_for(1)[0]["Message-ID"] == stored


def test_a_record_that_fails_once_after_the_send_still_sends_once(app_ctx, app, nayoro, smtp_server, clock):
    message_id = queue(nayoro)

    with record_fails(times=1) as left, contextlib.suppress(Exception):
        send_due()
    db.session.rollback()
    assert left == [0]  # the fault did happen, after the SMTP server had accepted the mail
    assert len(smtp_server.wait_for(1)) == 1

    # Any sender, any time later: nothing more goes out.
    clock.shift(seconds=lease(app).total_seconds() + 1)
    send_due()
    assert len(smtp_server.messages) == 1
    assert row(nayoro, message_id).status == "sent"


def test_a_record_that_never_lands_is_resent_only_after_the_lease_with_the_same_message_id(
        app_ctx, app, nayoro, smtp_server, clock, monkeypatch, caplog):
    # The database refuses the record for the whole time this sender owns the mail.
    monkeypatch.setitem(app.config, "MAIL_CLAIM_SECONDS", 1)
    caplog.set_level(logging.WARNING, logger="waterportal.mail")
    message_id = queue(nayoro)

    with record_fails(times=1000):
        counts = send_due()
    assert (counts.sent, counts.unrecorded) == (1, 1)
    assert row(nayoro, message_id).status == "sending"
    assert send_due().sent == 0  # still within the lease: nobody sends it again

    clock.shift(seconds=1)
    assert send_due().sent == 1
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == row(nayoro, message_id).message_id
    assert row(nayoro, message_id).status == "sent"
    assert "sending it again with the same Message-ID" in caplog.text


# --- Two senders at once, on a database with real commits --------------------------------


@pytest.fixture
def two_senders(two_workers):  # noqa: F811 (the fixture)
    """Two apps on one database of their own (a web process and a worker, or two workers),
    both sending to one SMTP server: (first, second, server)."""
    first, second = two_workers
    server = SmtpServer().start()
    with mail_pointed_at(first, server.host, server.port), mail_pointed_at(second, server.host, server.port):
        try:
            yield first, second, server
        finally:
            server.stop()


@pytest.mark.real_commits
def test_two_senders_at_once_deliver_each_mail_once(two_senders):
    senders_deliver_once(*two_senders)


def senders_deliver_once(web, worker, server):
    with web.app_context():
        registry = get_registry()
        for n in range(30):
            city = registry.by_slug("nayoro" if n % 2 else "kanazawa")
            with tenant_context(city):
                queue_mail(city, f"user{n}@example.jp", "check")
        db.session.commit()

    start = threading.Barrier(2)
    results = {}

    def run(name, app):
        with app.app_context():
            start.wait()
            try:
                results[name] = send_due(limit=100)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(name, app)) for name, app in (("web", web), ("worker", worker))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    received = server.wait_for(30)
    assert results["web"].sent + results["worker"].sent == 30
    assert sorted(str(m["To"]) for m in received) == sorted(f"user{n}@example.jp" for n in range(30))
    assert len({m["Message-ID"] for m in received}) == 30
    with web.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status).execution_options(all_tenants=True)).all()
    assert statuses == ["sent"] * 30


# --- Two outbox workers fanning out mail jobs at once (issue 10) -----------------------------


@pytest.mark.real_commits
def test_two_workers_expand_and_send_each_job_once(two_senders):
    workers_fan_out_once(*two_senders)  # two `flask outbox send --loop` workers, say


def workers_fan_out_once(first, second, server):
    from waterportal.accounts.models import Member
    from waterportal.core.time import utcnow_naive
    from waterportal.mail.jobs import expand_due
    from waterportal.mail.models import MailJob
    from waterportal.notices.models import Notice
    from waterportal.notices.services import mail_if_due

    wanted = []
    with first.app_context():
        for slug in ("nayoro", "kanazawa"):
            city = get_registry().by_slug(slug)
            with tenant_context(city):
                for n in range(10):
                    db.session.add(Member(email=f"{slug}{n}@example.jp", login_id=f"{slug}-{n}", nickname="会員",
                                          password_hash="-", notify_notices=True))
                    wanted += [f"{slug}{n}@example.jp"] * 3
                for n in range(3):
                    notice = Notice(title=f"お知らせ{n}", body="本文", mail_members=True, published_at=utcnow_naive())
                    db.session.add(notice)
                    db.session.flush()
                    assert mail_if_due(city, notice, utcnow_naive()) is not None
            db.session.commit()

    start = threading.Barrier(2)
    results = {}

    def run(name, app):
        with app.app_context():
            start.wait()
            try:
                results[name] = (expand_due(limit=100), send_due(limit=100))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(name, app)) for name, app in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert results["first"][0] + results["second"][0] == 60  # each job expanded by one worker
    received = server.wait_for(60)
    assert sorted(str(m["To"]) for m in received) == sorted(wanted)
    assert len({m["Message-ID"] for m in received}) == 60
    with first.app_context():
        assert db.session.scalars(select(MailJob.status).execution_options(all_tenants=True)).all() == ["done"] * 6
        statuses = db.session.scalars(select(OutboxMessage.status).execution_options(all_tenants=True)).all()
    assert statuses == ["sent"] * 60
