"""A fan-out job whose expansion keeps failing (mail/jobs.py) is tried again with backoff, gives
up after ``MAIL_JOB_MAX_ATTEMPTS`` (``failed``, logged at error level, shown by ``flask outbox
status`` and the vendor console) and ``flask outbox retry --failed`` revives it."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from tests.mail.test_retention import audits, mail
from tests.vendor_console.test_console import make_vendor, text, vendor_client  # noqa: F401 (fixtures)
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail import jobs
from waterportal.mail.jobs import expand_due, record_job
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.tenancy.context import tenant_context

KIND = "retry_test"


@pytest.fixture
def broken(monkeypatch):
    """An expander for KIND that fails while ``state["broken"]``, else queues one mail; counts its calls."""
    state = {"broken": True, "calls": 0}

    def expand(tenant, job, now):
        state["calls"] += 1
        if state["broken"]:
            raise RuntimeError("template missing")
        db.session.add(OutboxMessage(tenant_id=tenant.id, to_address="taro@example.jp", sender="s@example.jp",
                                     subject="件名", body="本文", kind=KIND, job_id=job.id, created_at=now,
                                     next_attempt_at=now))
        return 1

    monkeypatch.setitem(jobs.EXPANDERS, KIND, expand)
    return state


def make_job(tenant) -> int:
    with tenant_context(tenant):
        job_id = record_job(tenant, KIND).id
        db.session.commit()
    return job_id


def job_row(tenant, job_id):
    with tenant_context(tenant):
        db.session.expire_all()
        return db.session.execute(select(MailJob).where(MailJob.id == job_id)).scalar_one()


def test_a_failing_expansion_backs_off_and_gives_up_after_its_last_try(app, app_ctx, nayoro, kanazawa, broken,
                                                                       caplog, monkeypatch):
    job_id = make_job(nayoro)
    monkeypatch.setitem(jobs.EXPANDERS, "fine", lambda _tenant, _job, _now: 0)
    with tenant_context(kanazawa):
        other = record_job(kanazawa, "fine").id  # another city's job: held up by nothing
        db.session.commit()
    limit, base = app.config["MAIL_JOB_MAX_ATTEMPTS"], app.config["MAIL_JOB_RETRY_BASE_SECONDS"]
    cap = app.config["MAIL_RETRY_MAX_SECONDS"]
    now = utcnow_naive()
    calls = 0

    for attempt in range(1, limit + 1):
        with caplog.at_level(logging.WARNING, logger="waterportal.mail"):
            caplog.clear()
            expand_due(now=now)
        calls += 1
        assert broken["calls"] == calls
        row = job_row(nayoro, job_id)
        assert (row.attempts, row.last_error) == (attempt, "RuntimeError: template missing")
        if attempt < limit:
            delay = min(base * 2 ** (attempt - 1), cap)
            assert (row.status, row.next_attempt_at) == ("pending", now + dt.timedelta(seconds=delay))
            assert [r.levelname for r in caplog.records] == ["WARNING"]
            expand_due(now=now + dt.timedelta(seconds=delay - 1))  # not due yet: not tried
            assert broken["calls"] == calls
            now += dt.timedelta(seconds=delay)
        else:
            assert row.status == "failed"
            assert [r.levelname for r in caplog.records] == ["ERROR"]
            assert f"mail job {job_id}: expansion failed {limit} times, giving up" in caplog.text
    assert job_row(kanazawa, other).status == "done"
    expand_due(now=now + dt.timedelta(days=30))
    assert broken["calls"] == calls  # failed: never tried again by itself


def give_up(app, tenant, broken) -> int:
    job_id = make_job(tenant)
    now = utcnow_naive()
    for _ in range(app.config["MAIL_JOB_MAX_ATTEMPTS"]):
        expand_due(now=now)
        now += dt.timedelta(seconds=app.config["MAIL_RETRY_MAX_SECONDS"])
    assert job_row(tenant, job_id).status == "failed"
    return job_id


def test_status_shows_the_failed_job_and_retry_failed_revives_it(app, app_ctx, runner, nayoro, kanazawa, broken):
    job_id = give_up(app, nayoro, broken)

    status = runner.invoke(args=["outbox", "status"])
    lines = [line.split() for line in status.output.splitlines()]
    assert ["nayoro", "0", "0", "0", "1", "-"] in lines  # pending delivering done failed
    [job_line] = [line for line in status.output.splitlines() if line.split()[:1] == [str(job_id)]]
    assert job_line.split()[1:4] == ["nayoro", KIND, "failed"]
    assert job_line.endswith(f"{app.config['MAIL_JOB_MAX_ATTEMPTS']}: RuntimeError: template missing")

    assert "mail jobs" not in runner.invoke(args=["outbox", "retry"]).output  # only with --failed
    assert job_row(nayoro, job_id).status == "failed"
    broken["broken"] = False
    result = runner.invoke(args=["outbox", "retry", "--failed"])
    assert result.exit_code == 0, result.output
    assert "nayoro: mail jobs 0 waiting, 1 failed -> due now" in result.output.splitlines()
    row = job_row(nayoro, job_id)
    assert (row.status, row.attempts) == ("pending", 0)
    [(actor, target, detail)] = audits(nayoro, "mail.retry")
    assert (actor, target, detail["jobs_failed"]) == ("vendor:cli", "nayoro", 1)

    assert expand_due() == 1
    assert job_row(nayoro, job_id).status == "done"


def test_retry_makes_a_job_backing_off_due_now(app, app_ctx, runner, nayoro, broken):
    job_id = make_job(nayoro)
    expand_due()
    assert job_row(nayoro, job_id).next_attempt_at > utcnow_naive()
    broken["broken"] = False
    assert expand_due() == 0  # still backing off

    result = runner.invoke(args=["outbox", "retry", "--city", "nayoro"])

    assert "nayoro: mail jobs 1 waiting, 0 failed -> due now" in result.output.splitlines()
    assert expand_due() == 1


def test_the_vendor_sees_a_failed_job(app, app_ctx, nayoro, broken, vendor_client):  # noqa: F811
    job_id = give_up(app, nayoro, broken)

    page = text(vendor_client.get("/vendor/mail"))

    assert 'data-figure="jobs-failed">1<' in page.split('data-city="nayoro"')[1].split("</tr>")[0]
    assert "展開できず" in page.split(f'data-job="{job_id}"')[1].split("</tr>")[0]


def test_the_vendors_retry_button_revives_the_citys_failed_jobs_too(app, app_ctx, nayoro, kanazawa, broken,
                                                                     vendor_client):  # noqa: F811
    ours, theirs = give_up(app, nayoro, broken), give_up(app, kanazawa, broken)
    mail(nayoro, "failed", dt.timedelta(0))  # the button shows for a city with failed mail

    response = vendor_client.submit("/vendor/cities/nayoro/mail/retry", {}, form_page="/vendor/")

    assert response.status_code == 303
    assert "展開できなかった配信ジョブ 1 件も展開し直します。" in text(vendor_client.get("/vendor/"))
    assert (job_row(nayoro, ours).status, job_row(kanazawa, theirs).status) == ("pending", "failed")
