"""Mail queued in a request is delivered right after its commit, never at the user's expense."""
from __future__ import annotations

import datetime as dt
import re
import time
from contextlib import contextmanager

import pytest
import time_machine
from sqlalchemy import select

from tests.smtp import body_of, find_url
from waterportal.extensions import db
from waterportal.mail.delivery import Dispatcher, deliver_in_app
from waterportal.mail.models import OutboxMessage
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import current_tenant, tenant_context

# Noon in Japan: both cities are within service hours.
NOON = dt.datetime(2025, 6, 10, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _daytime():
    with time_machine.travel(NOON, tick=False):
        yield


def in_request(app, view, host="nayoro.localhost", headers=None, path="/"):
    """Run ``view(tenant)`` as the body of a real request on ``host``.

    The city comes from the Host header through the gate; leaving the block pops the
    request context, which runs the end-of-request delivery like any view would.
    """
    with app.test_request_context(path, headers={"Host": host, **(headers or {})}):
        assert app.preprocess_request() is None
        return view(current_tenant())


def queue_and_commit(to="taro@example.jp"):
    def view(tenant):
        message_id = queue_mail(tenant, to, "check").id
        db.session.commit()
        return message_id

    return view


def outbox_row(tenant, message_id):
    with tenant_context(tenant):
        return db.session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id)).scalar_one_or_none()


@contextmanager
def delivery_mode(app, mode, dispatcher=None):
    delivery = app.extensions["waterportal.mail"]
    saved = delivery.mode, delivery.dispatcher
    delivery.mode = mode
    if dispatcher is not None:
        delivery.dispatcher = dispatcher
    try:
        yield delivery
    finally:
        delivery.mode, delivery.dispatcher = saved


def test_mail_committed_in_a_request_is_sent_at_its_end(app_ctx, app, nayoro, smtp_server):
    message_id = in_request(app, queue_and_commit())

    [mail] = smtp_server.messages
    assert mail["To"].addresses[0].addr_spec == "taro@example.jp"
    assert mail["Subject"] == "【名寄市上下水道ポータル】メール送信の確認"
    row = outbox_row(nayoro, message_id)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, NOON.replace(tzinfo=None), None)


def test_a_rolled_back_request_sends_nothing(app_ctx, app, nayoro, smtp_server):
    def view(tenant):
        message_id = queue_mail(tenant, "taro@example.jp", "check").id
        db.session.rollback()  # the change that caused the mail failed
        return message_id

    message_id = in_request(app, view)

    assert smtp_server.messages == []
    assert outbox_row(nayoro, message_id) is None


def test_mail_flushed_but_never_committed_is_not_sent(app_ctx, app, smtp_server):
    in_request(app, lambda tenant: queue_mail(tenant, "taro@example.jp", "check").id)

    assert smtp_server.messages == []


@pytest.mark.parametrize(
    "host, headers",
    [
        ("nayoro.localhost:8000", {}),
        ("nayoro.localhost", {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}),
        ("NAYORO.localhost.", {"Forwarded": "host=evil.example"}),
    ],
)
def test_links_use_the_primary_host_whatever_the_request_says(app_ctx, app, smtp_server, host, headers):
    in_request(app, queue_and_commit(), host=host, headers=headers)

    body = body_of(smtp_server.last_to("taro@example.jp"))
    assert find_url(body) == "http://nayoro.localhost/"
    assert "evil" not in body and ":8000" not in body


def test_server_down_the_request_is_unaffected_and_the_worker_sends_later(app_ctx, app, nayoro, smtp_server, runner,
                                                                          monkeypatch):
    # The backoff alone (tests/mail/test_recovery.py has the probe that ends it early when the
    # server answers again): no probe in this test, whichever test probed before in this process.
    monkeypatch.setitem(app.config, "MAIL_PROBE_SECONDS", 3600)
    monkeypatch.setitem(app.extensions, "waterportal.mail.probe", {"last": time.monotonic()})
    smtp_server.stop()
    message_id = in_request(app, queue_and_commit())  # no exception reaches the request

    row = outbox_row(nayoro, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error or "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == NOON.replace(tzinfo=None) + dt.timedelta(seconds=30)

    smtp_server.start()
    assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent 0, retrying 0, failed 0"  # not due yet
    with time_machine.travel(NOON + dt.timedelta(seconds=30), tick=False):
        assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent 1, retrying 0, failed 0"
        assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent 0, retrying 0, failed 0"

    assert len(smtp_server.messages) == 1  # nothing lost, nothing sent twice
    row = outbox_row(nayoro, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_only_this_requests_mail_is_sent_at_its_end(app_ctx, app, nayoro, smtp_server):
    with tenant_context(nayoro):
        earlier = queue_mail(nayoro, "earlier@example.jp", "check").id
    db.session.commit()  # committed outside any request: the worker's job

    in_request(app, queue_and_commit("now@example.jp"))

    assert [str(m["To"]) for m in smtp_server.messages] == ["now@example.jp"]
    assert outbox_row(nayoro, earlier).status == "pending"


def test_worker_mode_leaves_the_mail_to_the_worker(app_ctx, app, nayoro, smtp_server, runner):
    with delivery_mode(app, "worker"):
        message_id = in_request(app, queue_and_commit())

    assert smtp_server.messages == []
    assert outbox_row(nayoro, message_id).attempts == 0
    assert "sent 1" in runner.invoke(args=["outbox", "send"]).output
    smtp_server.wait_for(1)


def test_thread_mode_answers_before_the_mail_server_does(app_ctx, app, nayoro, smtp_server):
    dispatcher = Dispatcher(deliver_in_app)
    with delivery_mode(app, "thread", dispatcher), smtp_server.hold():
        # The SMTP server is stuck on DATA, yet the request is already over.
        message_id = in_request(app, queue_and_commit())
        assert smtp_server.messages == []
    assert dispatcher.join()

    assert smtp_server.last_to("taro@example.jp")["Subject"] == "【名寄市上下水道ポータル】メール送信の確認"
    assert outbox_row(nayoro, message_id).status == "sent"


def test_thread_mode_with_the_server_down_keeps_the_mail_for_the_worker(app_ctx, app, nayoro, mail_down):
    dispatcher = Dispatcher(deliver_in_app)
    with delivery_mode(app, "thread", dispatcher):
        message_id = in_request(app, queue_and_commit())
    assert dispatcher.join()

    row = outbox_row(nayoro, message_id)
    assert (row.status, row.attempts) == ("pending", 1)


def test_dispatcher_survives_a_failing_job(caplog):
    done = []

    def target(_app, ids):
        if ids == [1]:
            raise RuntimeError("database went away")
        done.append(ids)

    dispatcher = Dispatcher(target)
    dispatcher.submit(None, [1])
    dispatcher.submit(None, [2, 3])
    dispatcher.submit(None, [])
    assert dispatcher.join()

    assert done == [[2, 3]]
    assert "mail delivery thread failed for outbox ids [1]" in caplog.text


def test_unknown_delivery_mode_is_refused():
    from waterportal.mail.delivery import MailDelivery

    with pytest.raises(ValueError, match="MAIL_DELIVERY"):
        MailDelivery("smtp")


# --- through a real view: パスワードを忘れた場合 (Nayoro) ------------------------------------


def forgot(client, email):
    response = client.submit("/password/forgot", {"email": email})
    page = response.get_data(as_text=True)
    return response.status_code, re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)


def test_forgot_password_answers_the_same_while_the_mail_server_is_down(
    app_ctx, app, client_for, nayoro, make_member, smtp_server
):
    make_member(nayoro, email="taro@example.jp")
    smtp_server.stop()
    client = client_for("nayoro")

    known = forgot(client, "taro@example.jp")
    unknown = forgot(client, "nobody@example.jp")

    assert known == unknown and known[0] == 200
    with tenant_context(nayoro):
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    # Both answers queue one mail (a link, or a "not registered" note); both wait for the worker.
    assert [(r.to_address, r.status, r.attempts) for r in rows] == [
        ("taro@example.jp", "pending", 1), ("nobody@example.jp", "pending", 1)]


def test_reset_link_is_on_the_primary_host_even_when_asked_on_another(
    app_ctx, app, client_for, nayoro, make_member, smtp_server
):
    make_member(nayoro, email="taro@example.jp")
    client = client_for("nayoro.localhost:8000")
    client.environ_base["HTTP_X_FORWARDED_HOST"] = "evil.example"

    assert forgot(client, "taro@example.jp")[0] == 200

    link = find_url(smtp_server.last_to("taro@example.jp"), "/password/reset/")
    assert link.startswith("http://nayoro.localhost/password/reset/")


def test_a_bulk_mailing_is_left_to_the_worker_beyond_the_first_hundred(app_ctx, app, nayoro, smtp_server, runner):
    def bulk(tenant):
        for n in range(102):
            queue_mail(tenant, f"member{n}@example.jp", "check")
        db.session.commit()

    in_request(app, bulk)

    assert len(smtp_server.messages) == 100
    assert runner.invoke(args=["outbox", "send"]).output == "sent 2, retrying 0, failed 0\n"
    assert len({str(m["To"]) for m in smtp_server.wait_for(102)}) == 102
