"""Issue 10: the fan-out jobs (``mail_jobs``) and their mails, per city, in ``flask outbox status``
and the vendor console's メール配信の状況 (mail.jobs.jobs_by_city / jobs_in_progress: one statement
each for every city). The city staff's counter on a notice: tests/admin/test_mail_fanout.py."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.admin.test_mail_fanout import counting
from tests.vendor_console.test_console import make_vendor, text, vendor_client  # noqa: F401 (fixtures)
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import jobs_by_city, jobs_in_progress, record_job
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context


def make_job(tenant, mails: list[str], *, kind="notice", expanded=True, age=dt.timedelta(0)) -> int:
    """A job of ``tenant`` recorded ``age`` ago; expanded into mails of these statuses (or still pending)."""
    with tenant_context(tenant):
        job = record_job(tenant, kind, ref_id=7)
        job.created_at -= age
        if expanded:
            job.status, job.queued = "done", len(mails)
        for n, status in enumerate(mails):
            db.session.add(OutboxMessage(to_address=f"m{n}@example.jp", sender="s@example.jp", subject="件名",
                                         body="本文", kind=kind, status=status, job_id=job.id))
        db.session.commit()
        return job.id


@pytest.fixture
def jobs(app_ctx, nayoro, kanazawa):
    """Nayoro: one job waiting for the worker (10 minutes), one delivering (1 of 3 sent, 1 failed),
    one old and done; Kanazawa: one done today (both mails sent)."""
    return {
        "waiting": make_job(nayoro, [], expanded=False, age=dt.timedelta(minutes=10)),
        "delivering": make_job(nayoro, ["sent", "pending", "failed"]),
        "old": make_job(nayoro, ["sent"], age=dt.timedelta(days=3)),
        "kanazawa": make_job(kanazawa, ["sent", "sent"], kind="bills"),
    }


def test_jobs_by_city_counts_each_state(app, jobs, nayoro, kanazawa):
    by_city = jobs_by_city()

    assert (by_city[nayoro.id].pending, by_city[nayoro.id].delivering, by_city[nayoro.id].done) == (1, 1, 1)
    assert by_city[nayoro.id].oldest_pending_age_seconds == 600
    assert (by_city[kanazawa.id].pending, by_city[kanazawa.id].delivering, by_city[kanazawa.id].done) == (0, 0, 1)
    assert by_city[kanazawa.id].oldest_pending_age_seconds is None


def test_jobs_in_progress_lists_unfinished_and_recent_jobs_with_their_mails(app, jobs, nayoro, kanazawa):
    found = {job.job_id: job for job in jobs_in_progress(since=utcnow_naive() - dt.timedelta(days=1))}

    assert set(found) == {jobs["waiting"], jobs["delivering"], jobs["kanazawa"]}  # the old, finished one is not
    delivering = found[jobs["delivering"]]
    assert (delivering.state, delivering.queued, delivering.waiting, delivering.sent, delivering.failed) == (
        "delivering", 3, 1, 1, 1)
    assert (found[jobs["waiting"]].state, found[jobs["waiting"]].queued) == ("pending", 0)
    done = found[jobs["kanazawa"]]
    assert (done.state, done.tenant_id, done.kind, done.sent, done.waiting) == ("done", kanazawa.id, "bills", 2, 0)
    assert [job.job_id for job in jobs_in_progress(since=dt.datetime(2100, 1, 1))] == [
        jobs["delivering"], jobs["waiting"]]  # newest first; unfinished whatever their age


def test_each_report_is_one_statement_whatever_the_number_of_jobs(app, jobs, nayoro):
    since = dt.datetime(2000, 1, 1)
    with counting(app) as few:
        jobs_by_city()
        jobs_in_progress(since)
    for _ in range(5):
        make_job(nayoro, ["pending"])
    with counting(app) as many:
        assert len(jobs_in_progress(since)) == 9
        jobs_by_city()
    assert len([s for s in few if "mail_jobs" in s]) == len([s for s in many if "mail_jobs" in s]) == 2


def test_outbox_status_shows_the_jobs_per_city_and_per_job(runner, jobs):
    result = runner.invoke(args=["outbox", "status"])

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["city", "pending", "delivering", "done", "failed", "oldest", "pending"] in lines
    assert ["nayoro", "1", "1", "1", "0", "600s"] in lines
    assert ["kanazawa", "0", "0", "1", "0", "-"] in lines
    by_job = {line[0]: line[1:7] for line in lines if line and line[0].isdigit()}
    assert by_job[str(jobs["delivering"])] == ["nayoro", "notice", "delivering", "3", "1", "1"]
    assert by_job[str(jobs["waiting"])] == ["nayoro", "notice", "pending", "0", "0", "0"]
    assert by_job[str(jobs["kanazawa"])] == ["kanazawa", "bills", "done", "2", "0", "2"]
    assert str(jobs["old"]) not in by_job
    assert str(jobs["old"]) in [line[0] for line in (
        row.split() for row in runner.invoke(args=["outbox", "status", "--hours", "100"]).output.splitlines()) if line]


def test_the_vendor_sees_every_citys_jobs(jobs, vendor_client):  # noqa: F811 (fixture)
    response = vendor_client.get("/vendor/mail")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = text(response)
    assert "メール配信の状況" in page and 'aria-current="page"' in page
    nayoro_row = page.split('data-city="nayoro"')[1].split("</tr>")[0]
    for figure in ("jobs-pending", "jobs-delivering", "jobs-done"):
        assert f'data-figure="{figure}">1<' in nayoro_row
    assert "10 分前" in nayoro_row
    row = page.split(f'data-job="{jobs["delivering"]}"')[1].split("</tr>")[0]
    assert "名寄市" in row and "お知らせ" in row and "送信中" in row
    assert 'data-figure="queued">3<' in row and 'data-figure="sent">1<' in row and 'data-figure="failed">1<' in row
    assert "請求" in page.split(f'data-job="{jobs["kanazawa"]}"')[1].split("</tr>")[0]
    assert f'data-job="{jobs["old"]}"' not in page


def test_the_mail_page_is_for_vendor_staff_only(client_for, jobs):
    response = client_for("vendor.localhost").get("/vendor/mail")
    assert response.status_code == 302 and "/vendor/login" in response.headers["Location"]
