"""Issue 9 #9: mail does not give up silently. ``flask outbox retry``, backoff that ends when
the SMTP server answers again, dead code mails dropped (and recorded), and the vendor
console's per-city counts with a retry button."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.vendor_console.test_console import figure, make_vendor, row_of, text, vendor_client  # noqa: F401 (fixtures)
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.accounts.registration.services import send_registration_code
from waterportal.accounts.tokens import MAX_AGE, PASSWORD_RESET
from waterportal.audit.models import AuditEntry
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.mail.sender import send_due
from waterportal.mail.services import queue_mail, retry_mail
from waterportal.tenancy.context import tenant_context

EMAIL = "taro@example.jp"


def queue(tenant, to=EMAIL, **fields):
    with tenant_context(tenant):
        message = queue_mail(tenant, to, "check")
        for name, value in fields.items():
            setattr(message, name, value)
        message_id = message.id
        db.session.commit()
    return message_id


def row(tenant, message_id):
    with tenant_context(tenant):
        return db.session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id)).scalar_one()


def audit_actions(tenant, action):
    with tenant_context(tenant):
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def fail_for_good(app, tenant, smtp_server, clock, to=EMAIL):
    """A mail that went through every try while the server was down (status failed)."""
    message_id = queue(tenant, to=to)
    smtp_server.stop()
    for hour in range(app.config["MAIL_MAX_ATTEMPTS"]):  # the sender's clock, not the sessions'
        send_due(now=utcnow_naive() + dt.timedelta(hours=hour))
    smtp_server.start()
    assert row(tenant, message_id).status == "failed"
    return message_id


# --- flask outbox retry ----------------------------------------------------------------


def test_retry_failed_gives_failed_mail_of_one_city_a_fresh_set_of_tries(app, app_ctx, runner, nayoro, kanazawa,
                                                                          smtp_server, clock):
    ours = fail_for_good(app, nayoro, smtp_server, clock)
    theirs = fail_for_good(app, kanazawa, smtp_server, clock)
    assert send_due().sent == 0  # failed mail stays failed on its own

    result = runner.invoke(args=["outbox", "retry", "--failed", "--city", "nayoro"])

    assert result.exit_code == 0, result.output
    assert "nayoro: 0 waiting, 1 failed -> due now" in result.output
    assert (row(nayoro, ours).status, row(nayoro, ours).attempts) == ("pending", 0)
    assert row(kanazawa, theirs).status == "failed"  # another city's mail is not touched
    assert send_due().sent == 1
    assert [str(m["To"]) for m in smtp_server.messages] == [EMAIL]
    [entry] = audit_actions(nayoro, "mail.retry")
    assert (entry.actor, entry.detail) == ("vendor:cli", {"waiting": 0, "failed": 1})
    assert audit_actions(kanazawa, "mail.retry") == []


def test_retry_without_failed_makes_waiting_mail_due_now_in_every_city(app_ctx, runner, nayoro, kanazawa, mail_down):
    waiting = [queue(nayoro), queue(kanazawa)]
    send_due()  # one try each: the server is down, both wait 30 s
    send_due()
    failed = queue(nayoro, status="failed")

    result = runner.invoke(args=["outbox", "retry"])

    assert result.exit_code == 0, result.output
    assert "2 mail(s) due now" in result.output
    assert row(nayoro, failed).status == "failed"  # only with --failed
    assert all(row(city, i).next_attempt_at <= utcnow_naive()
               for city, i in zip((nayoro, kanazawa), waiting, strict=True))


def test_a_failed_code_mail_whose_code_died_is_not_revived(app_ctx, nayoro, clock):
    dead = queue(nayoro, status="failed", expires_at=utcnow_naive())
    clock.shift(seconds=1)

    result = retry_mail("vendor:cli", failed=True)

    assert (result.total, result.skipped_expired) == (0, 1)
    assert row(nayoro, dead).status == "failed"


def test_retry_needs_a_known_city(runner):
    result = runner.invoke(args=["outbox", "retry", "--city", "nowhere"])
    assert result.exit_code == 2 and "no city with slug 'nowhere'" in result.output


# --- The backoff ends when the server answers again ---------------------------------------


def test_when_the_server_answers_again_waiting_mail_goes_without_sitting_out_its_backoff(
        app, app_ctx, nayoro, smtp_server, clock, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PROBE_SECONDS", 0)
    message_id = queue(nayoro)
    smtp_server.stop()
    for _ in range(6):
        send_due()
        clock.move_to(row(nayoro, message_id).next_attempt_at.replace(tzinfo=dt.UTC))
    send_due()
    assert row(nayoro, message_id).attempts == 7  # the next try is 32 minutes away
    assert (row(nayoro, message_id).next_attempt_at - utcnow_naive()).total_seconds() == 1920

    smtp_server.start()
    clock.shift(seconds=5)  # the worker's next round: nothing is due, the server is asked
    assert send_due().sent == 1
    assert len(smtp_server.wait_for(1)) == 1 and row(nayoro, message_id).status == "sent"


def test_a_server_still_down_is_asked_at_most_every_probe_interval(app, app_ctx, nayoro, mail_down, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PROBE_SECONDS", 3600)
    message_id = queue(nayoro)
    send_due()
    app.extensions.pop("waterportal.mail.probe", None)
    assert send_due().sent == 0  # probes (refused)
    assert send_due().sent == 0  # does not probe again
    assert row(nayoro, message_id).attempts == 1


# --- Dead codes are not delivered ---------------------------------------------------------


def test_a_reset_link_mail_is_dropped_once_the_link_is_dead(app_ctx, client, nayoro, make_member, smtp_server, clock, caplog):
    make_member(nayoro, email=EMAIL)
    smtp_server.stop()
    assert client.submit("/password/forgot", {"email": EMAIL}).status_code in (200, 302)
    with tenant_context(nayoro):
        [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")).all()
        assert mail.status == "pending" and mail.attempts == 1  # the try after the request failed
        mail_id = mail.id

    clock.shift(seconds=MAX_AGE[PASSWORD_RESET] + 1)  # the outage outlived the link
    smtp_server.start()
    counts = send_due()

    assert (counts.sent, counts.expired) == (0, 1)
    assert smtp_server.messages == []
    with tenant_context(nayoro):
        mail = row(nayoro, mail_id)
        assert mail.status == "expired" and mail.last_error.startswith("expired")
        [entry] = audit_actions(nayoro, "mail.expired")
        assert (entry.actor, entry.target, entry.detail["kind"]) == ("system:mail", f"mail:{mail_id}", "password_reset")
    assert "dropped: its code or link expired" in caplog.text


def test_a_reset_link_mail_within_its_lifetime_is_delivered(app_ctx, client, nayoro, make_member, smtp_server, clock):
    make_member(nayoro, email=EMAIL)
    smtp_server.stop()
    client.submit("/password/forgot", {"email": EMAIL})
    clock.shift(seconds=MAX_AGE[PASSWORD_RESET] - 60)
    smtp_server.start()

    assert send_due().sent == 1


def test_code_mails_carry_their_codes_lifetime(app_ctx, nayoro):
    ttl = nayoro.settings["registration"]["code_ttl_minutes"]
    with tenant_context(nayoro):
        draft = RegistrationDraft(tenant_id=nayoro.id, token_hash="0" * 64,
                                  expires_at=utcnow_naive() + dt.timedelta(hours=1))
        db.session.add(draft)
        db.session.flush()
        send_registration_code(nayoro, draft, "new@example.jp")
        mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "verification_code")).one()
        assert (mail.expires_at - mail.created_at) == dt.timedelta(minutes=ttl)
    db.session.rollback()


# --- The vendor console -------------------------------------------------------------------


def test_the_vendor_console_shows_failed_mail_and_retries_one_city_audited(
        app, vendor_client, nayoro, kanazawa, smtp_server, clock):  # noqa: F811
    with app.app_context():
        ours = fail_for_good(app, nayoro, smtp_server, clock)
        theirs = fail_for_good(app, kanazawa, smtp_server, clock)
    page = text(vendor_client.get("/vendor/"))
    assert figure(row_of(page, "nayoro"), "mail-failed").startswith("1")
    assert 'action="/vendor/cities/nayoro/mail/retry"' in page

    assert vendor_client.post("/vendor/cities/nayoro/mail/retry").status_code == 400  # no CSRF token
    response = vendor_client.submit("/vendor/cities/nayoro/mail/retry", {}, form_page="/vendor/")

    assert response.status_code == 303
    assert "名寄市: 再送待ち 0 件、送信失敗 1 件を、すぐに再送します。" in text(vendor_client.get("/vendor/"))
    with app.app_context():
        assert row(nayoro, ours).status == "pending" and row(kanazawa, theirs).status == "failed"
        [entry] = audit_actions(nayoro, "mail.retry")
        assert entry.actor == f"vendor:{vendor_client.vendor_id}" and entry.detail == {"waiting": 0, "failed": 1}
        assert send_due().sent == 1


def test_the_retry_button_needs_a_vendor_and_a_city(client_for, vendor_client):  # noqa: F811
    anonymous = client_for("vendor.localhost")
    token = anonymous.csrf_token("/vendor/login")
    assert anonymous.post("/vendor/cities/nayoro/mail/retry", data={"csrf_token": token}).status_code == 302
    token = vendor_client.csrf_token("/vendor/")
    for slug in ("nowhere", "nayoro%00", "a" * 3000):
        assert vendor_client.post(f"/vendor/cities/{slug}/mail/retry", data={"csrf_token": token}).status_code == 404
