"""The sender: format, per-city senders, backoff, give-up, permanent refusals, claims."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from sqlalchemy import select

from tests.smtp import body_of, find_url
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import _Round, backoff_seconds, send_due, send_ids
from waterportal.mail.services import outbox_status, queue_mail
from waterportal.tenancy.context import tenant_context

T0 = dt.datetime(2025, 6, 10, 3, 0)  # naive UTC, like the columns


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0.replace(tzinfo=dt.UTC), tick=False):
        yield


def queue(tenant, to="taro@example.jp", template="check"):
    """Queue one mail in ``tenant`` and commit; return its id."""
    with tenant_context(tenant):
        message_id = queue_mail(tenant, to, template).id
    db.session.commit()
    return message_id


def row(tenant, message_id):
    with tenant_context(tenant):
        return db.session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id)).scalar_one()


def test_backoff_doubles_from_30_seconds_up_to_an_hour(app_ctx):
    assert [backoff_seconds(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_each_city_sends_under_its_own_name_address_signature_and_host(app_ctx, nayoro, kanazawa, smtp_server):
    queue(nayoro)
    queue(kanazawa)

    assert str(send_due()) == "sent 2, retrying 0, failed 0"

    by_sender = {m["From"].addresses[0].addr_spec: m for m in smtp_server.wait_for(2)}
    nayoro_mail = by_sender["noreply@nayoro.localhost"]
    kanazawa_mail = by_sender["noreply@kanazawa.localhost"]
    assert nayoro_mail["From"].addresses[0].display_name == "名寄市上下水道ポータル"
    assert kanazawa_mail["From"].addresses[0].display_name == "金沢市上下水道ポータルサイト"
    assert kanazawa_mail["Subject"] == "【金沢市上下水道ポータルサイト】メール送信の確認"
    assert "名寄市役所 上下水道室" in body_of(nayoro_mail) and "金沢" not in body_of(nayoro_mail)
    assert "金沢市企業局 営業課" in body_of(kanazawa_mail) and "名寄" not in body_of(kanazawa_mail)
    assert find_url(nayoro_mail) == "http://nayoro.localhost/"
    assert find_url(kanazawa_mail) == "http://kanazawa.localhost/"
    assert nayoro_mail["Message-ID"].endswith("@nayoro.localhost>")
    assert [envelope[0] for envelope in smtp_server.envelopes] == [
        "noreply@nayoro.localhost", "noreply@kanazawa.localhost"]


def test_japanese_subject_and_body_travel_encoded_and_decode_intact(app_ctx, nayoro, smtp_server):
    queue(nayoro)
    send_due()

    mail = smtp_server.wait_for(1)[0]
    raw = mail.as_bytes()
    assert b"Subject: =?utf-8?" in raw  # RFC 2047 on the wire, not raw UTF-8 in a header
    assert mail["Subject"] == "【名寄市上下水道ポータル】メール送信の確認"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert body_of(mail).startswith("このメールは、名寄市上下水道ポータルからメールが届くことを確認するために送信しました。\n")


def test_two_cities_outboxes_never_mix(app_ctx, nayoro, kanazawa, smtp_server):
    # The same address in both cities: each city sees and sends only its own mail.
    nayoro_id, kanazawa_id = queue(nayoro), queue(kanazawa)

    with tenant_context(nayoro):
        assert db.session.scalars(select(OutboxMessage.id)).all() == [nayoro_id]
    with tenant_context(kanazawa):
        assert db.session.scalars(select(OutboxMessage.id)).all() == [kanazawa_id]
    send_due()

    assert (row(nayoro, nayoro_id).status, row(kanazawa, kanazawa_id).status) == ("sent", "sent")
    for mail in smtp_server.to("taro@example.jp"):
        city = "nayoro" if "名寄" in mail["Subject"] else "kanazawa"
        assert mail["From"].addresses[0].domain == f"{city}.localhost"
        assert find_url(mail) == f"http://{city}.localhost/"
    assert {(s.slug, s.sent) for s in outbox_status()} == {("nayoro", 1), ("kanazawa", 1)}


def test_mail_not_yet_due_waits(app_ctx, nayoro, smtp_server):
    message_id = queue(nayoro)
    with tenant_context(nayoro):
        row(nayoro, message_id).next_attempt_at = T0 + dt.timedelta(minutes=5)
        db.session.commit()

    assert send_due().sent == 0
    assert send_due(now=T0 + dt.timedelta(minutes=5)).sent == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_retries_back_off_then_give_up_and_log(app_ctx, app, nayoro, mail_down, caplog):
    caplog.set_level(logging.WARNING, logger="waterportal.mail")
    message_id = queue(nayoro)
    now = T0
    waits = []
    for attempt in range(1, 8):
        counts = send_due(now=now)
        assert (counts.retrying, counts.failed) == (1, 0)
        mail = row(nayoro, message_id)
        assert (mail.status, mail.attempts) == ("pending", attempt)
        due = mail.next_attempt_at  # read before send_due commits (the row reloads only in its city)
        waits.append(int((due - now).total_seconds()))
        assert send_due(now=due - dt.timedelta(seconds=1)).retrying == 0  # not early
        now = due

    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert send_due(now=now).failed == 1
    mail = row(nayoro, message_id)
    assert (mail.status, mail.attempts) == ("failed", app.config["MAIL_MAX_ATTEMPTS"])
    assert "Connection refused" in mail.last_error or "ConnectionRefused" in mail.last_error
    assert f"mail {message_id} (check) for nayoro failed after 8 attempt(s), giving up" in caplog.text
    assert send_due(now=now + dt.timedelta(days=1)).failed == 0  # a failed mail stays failed


def test_a_refused_recipient_fails_at_once_and_the_rest_still_go(app_ctx, nayoro, smtp_server, caplog):
    smtp_server.reject_recipients.add("nobody@example.jp")
    refused = queue(nayoro, to="nobody@example.jp")
    fine = queue(nayoro, to="taro@example.jp")

    assert str(send_due()) == "sent 1, retrying 0, failed 1"

    assert (row(nayoro, refused).status, row(nayoro, refused).attempts) == ("failed", 1)
    assert "550" in row(nayoro, refused).last_error
    assert row(nayoro, fine).status == "sent"
    assert [str(m["To"]) for m in smtp_server.messages] == ["taro@example.jp"]


def test_server_down_stops_the_round_and_the_others_keep_their_turn(app_ctx, nayoro, kanazawa, smtp_server):
    first, second = queue(nayoro), queue(kanazawa)
    smtp_server.stop()

    assert str(send_due()) == "sent 0, retrying 1, failed 0"  # one connection attempt, not one per mail
    assert (row(nayoro, first).attempts, row(kanazawa, second).attempts) == (1, 0)

    smtp_server.start()
    # The untouched one is due; its success shows the server is back, so the retried one
    # does not sit out its 30 s backoff but goes in the same round.
    assert send_due().sent == 2
    assert len(smtp_server.wait_for(2)) == 2
    assert (row(nayoro, first).status, row(kanazawa, second).status) == ("sent", "sent")


def test_sending_twice_sends_once(app_ctx, nayoro, smtp_server):
    message_id = queue(nayoro)

    assert send_ids([message_id]).sent == 1
    assert send_ids([message_id]).sent == 0
    assert send_due().sent == 0
    assert len(smtp_server.messages) == 1


def test_a_sender_that_dies_after_claiming_leaves_the_mail_for_later(app_ctx, app, nayoro, smtp_server):
    message_id = queue(nayoro)

    claimed = _Round(now=T0).claim(None)  # claimed, then the process "dies" before sending
    assert claimed.id == message_id and row(nayoro, message_id).status == "sending"
    assert send_due().sent == 0  # another sender does not touch a claimed mail
    lease = dt.timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"])
    assert send_due(now=T0 + lease - dt.timedelta(seconds=1)).sent == 0
    assert send_due(now=T0 + lease).sent == 1

    assert (row(nayoro, message_id).attempts, len(smtp_server.messages)) == (2, 1)


def test_uncommitted_mail_is_never_sent(app_ctx, nayoro, smtp_server):
    with tenant_context(nayoro):
        queue_mail(nayoro, "taro@example.jp", "check")  # flushed, not committed

    assert send_due().sent == 0
    assert smtp_server.messages == []


def test_status_counts_every_city(app_ctx, nayoro, kanazawa, smtp_server):
    queue(nayoro)
    queue(nayoro)
    send_due(limit=1)

    status = {s.slug: s for s in outbox_status(now=T0 + dt.timedelta(minutes=2))}
    assert (status["nayoro"].pending, status["nayoro"].sent, status["nayoro"].failed) == (1, 1, 0)
    assert status["nayoro"].oldest_pending_age_seconds == 120
    assert (status["kanazawa"].pending, status["kanazawa"].oldest_pending_age_seconds) == (0, None)


def test_senders_skip_each_others_locked_rows_on_postgresql():
    from sqlalchemy.dialects import postgresql, sqlite

    from waterportal.mail.sender import due_query

    query = due_query(T0, [1, 2])
    assert "FOR UPDATE SKIP LOCKED" in str(query.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE" not in str(query.compile(dialect=sqlite.dialect()))  # SQLite: the claim UPDATE decides


def test_header_injection_is_refused_for_good(app_ctx, nayoro, smtp_server):
    message_id = queue(nayoro, to="taro@example.jp\r\nBcc: evil@example.jp")

    assert str(send_due()) == "sent 0, retrying 0, failed 1"

    assert row(nayoro, message_id).last_error.startswith("BadHeaderError")
    assert smtp_server.messages == []
