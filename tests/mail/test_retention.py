"""Retention of the outbox (mail/retention.py): sent, failed and expired mails queued more than
``MAIL_RETENTION_DAYS`` ago are deleted in every city, set-wise; pending and sending mails and
recent ones stay; a job's counter still adds up; finished jobs nothing shows go too; the worker
purges at most once a day; ``flask outbox purge [--days N] [--dry-run]``."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.admin.test_mail_fanout import counting
from waterportal.app import ConfigError, create_app
from waterportal.audit.models import AuditEntry
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.cli import run_worker
from waterportal.mail.jobs import job_counters, record_job
from waterportal.mail.models import MailJob, OutboxMessage
from waterportal.mail.retention import purge
from waterportal.notices.models import Notice
from waterportal.tenancy.context import tenant_context

DAYS = 90
OLD = dt.timedelta(days=DAYS, minutes=1)
RECENT = dt.timedelta(days=DAYS - 1)


def mail(tenant, status: str, age: dt.timedelta, job_id: int | None = None) -> int:
    """An outbox row of ``tenant`` in ``status``, queued ``age`` ago."""
    with tenant_context(tenant):
        row = OutboxMessage(to_address="taro@example.jp", sender="s@example.jp", subject="件名",
                            body="確認コード 123456", kind="check", status=status, job_id=job_id,
                            created_at=utcnow_naive() - age, next_attempt_at=utcnow_naive())
        db.session.add(row)
        db.session.commit()
        return row.id


def job(tenant, kind: str = "bills", ref_id: int = 0, age: dt.timedelta = OLD, status: str = "done") -> int:
    with tenant_context(tenant):
        found = record_job(tenant, kind, ref_id=ref_id)
        found.created_at = found.done_at = utcnow_naive() - age
        found.status = status
        db.session.commit()
        return found.id


def left(tenant) -> dict[int, str]:
    with tenant_context(tenant):
        return dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())


def jobs_left(tenant) -> set[int]:
    with tenant_context(tenant):
        return set(db.session.scalars(select(MailJob.id)))


def audits(tenant, action="mail.purge"):
    with tenant_context(tenant):
        return [(e.actor, e.target, e.detail) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def every_kind(tenant) -> dict[str, int]:
    """One mail of each kind the retention must tell apart."""
    return {
        "old sent": mail(tenant, "sent", OLD), "old failed": mail(tenant, "failed", OLD),
        "old expired": mail(tenant, "expired", OLD),
        "old pending": mail(tenant, "pending", dt.timedelta(days=400)),
        "old sending": mail(tenant, "sending", dt.timedelta(days=400)),
        "recent sent": mail(tenant, "sent", RECENT), "recent failed": mail(tenant, "failed", RECENT),
    }


def test_the_retention_is_90_days_and_a_bad_value_refuses_to_start(app, database_url):
    from tests.conftest import make_config

    assert app.config["MAIL_RETENTION_DAYS"] == DAYS
    for bad in (0, -5, "90", True, 1.5):
        with pytest.raises(ConfigError, match="MAIL_RETENTION_DAYS"):
            create_app(make_config(database_url, MAIL_RETENTION_DAYS=bad))
    with pytest.raises(ConfigError, match="MAIL_JOB_MAX_ATTEMPTS"):
        create_app(make_config(database_url, MAIL_JOB_MAX_ATTEMPTS=0))


def test_purge_deletes_only_final_mails_past_the_retention_in_every_city(app_ctx, nayoro, kanazawa):
    mails = {tenant.slug: every_kind(tenant) for tenant in (nayoro, kanazawa)}

    result = purge("vendor:cli")

    assert result.mails == {"nayoro": 3, "kanazawa": 3} and not result.dry_run
    for tenant in (nayoro, kanazawa):
        kept = {name for name, mail_id in mails[tenant.slug].items() if mail_id in left(tenant)}
        assert kept == {"old pending", "old sending", "recent sent", "recent failed"}
        [(actor, target, detail)] = audits(tenant)
        assert (actor, target, detail["mails"], detail["jobs"]) == ("vendor:cli", tenant.slug, 3, 0)
    assert purge("vendor:cli").mails == {}  # nothing more; no audit for nothing
    assert len(audits(nayoro)) == 1


def test_purge_statements_do_not_grow_with_mails_or_cities(app, app_ctx, nayoro, kanazawa):
    mail(nayoro, "sent", OLD, job(nayoro))

    def mail_statements(seen):
        return [s for s in seen if "mail_outbox" in s or "mail_jobs" in s]

    with counting(app) as few:
        assert purge("system:mail").mails == {"nayoro": 1}
    for tenant in (nayoro, kanazawa):
        for _ in range(3):
            job_id = job(tenant)
            for status in ("sent", "failed", "expired", "sent"):
                mail(tenant, status, OLD, job_id)
            mail(tenant, "sent", OLD)  # no job
    with counting(app) as many:
        result = purge("system:mail")
    assert result.mails == {"nayoro": 15, "kanazawa": 15} and result.jobs == {"nayoro": 3, "kanazawa": 3}
    assert len(mail_statements(few)) == len(mail_statements(many)) == 3  # mails, their jobs' counts, jobs
    # A batch is one DELETE ... WHERE id IN (SELECT ... LIMIT n): smaller batches, more statements, never per row.
    for tenant in (nayoro, kanazawa):
        for _ in range(5):
            mail(tenant, "sent", OLD)
    with counting(app) as batched:
        assert purge("system:mail", batch=4).mails == {"nayoro": 5, "kanazawa": 5}
    deletes = [s for s in mail_statements(batched) if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3 + 1  # 10 mails in batches of 4 (the last one short), then the jobs


def test_a_jobs_counter_adds_up_after_its_mails_are_purged(app_ctx, nayoro):
    with tenant_context(nayoro):
        notice = Notice(title="断水のお知らせ", body="本文", mail_members=True, published_at=utcnow_naive() - OLD)
        db.session.add(notice)
        db.session.commit()
        notice_id = notice.id
    notice_job = job(nayoro, "notice", notice_id)
    for status in ("sent", "sent", "failed", "expired"):
        mail(nayoro, status, OLD, notice_job)
    retrying = mail(nayoro, "pending", OLD, notice_job)  # revived by the vendor: still waiting
    with tenant_context(nayoro):
        db.session.execute(select(MailJob).where(MailJob.id == notice_job)).scalar_one().queued = 5
        db.session.commit()
        before = job_counters("notice", [notice_id])[notice_id]

    assert purge("system:mail").mails == {"nayoro": 4}

    with tenant_context(nayoro):
        after = job_counters("notice", [notice_id])[notice_id]
    assert (before.queued, before.sent, before.failed, before.waiting) == (5, 2, 2, 1)
    assert (after.queued, after.sent, after.failed, after.waiting) == (5, 2, 2, 1)
    assert left(nayoro) == {retrying: "pending"} and notice_job in jobs_left(nayoro)


def test_finished_jobs_go_unless_something_still_shows_them(app_ctx, nayoro, kanazawa):
    with tenant_context(nayoro):
        notice = Notice(title="お知らせ", body="本文", mail_members=True, published_at=utcnow_naive() - OLD)
        db.session.add(notice)
        db.session.commit()
        notice_id = notice.id
    jobs = {
        "old bills": job(nayoro), "old failed": job(kanazawa, status="failed"),
        "old bills, mails gone too": job(kanazawa),
        "old notice, notice kept": job(nayoro, "notice", notice_id),
        "old notice, notice deleted": job(nayoro, "notice", notice_id + 1000),
        "recent": job(nayoro, age=RECENT), "pending": job(nayoro, status="pending"),
        "old, a mail still waiting": job(nayoro),
        "old, a recent mail": job(kanazawa),
    }
    mail(kanazawa, "sent", OLD, jobs["old bills, mails gone too"])
    mail(nayoro, "pending", OLD, jobs["old, a mail still waiting"])
    mail(kanazawa, "sent", RECENT, jobs["old, a recent mail"])

    dry = purge("vendor:cli", dry_run=True)
    result = purge("vendor:cli")

    assert dry.jobs == result.jobs == {"nayoro": 2, "kanazawa": 2} and dry.mails == result.mails == {"kanazawa": 1}
    gone = {name for name, job_id in jobs.items() if job_id not in jobs_left(nayoro) | jobs_left(kanazawa)}
    assert gone == {"old bills", "old failed", "old bills, mails gone too", "old notice, notice deleted"}


def test_the_worker_purges_at_most_once_a_day(app, app_ctx, nayoro, clock, monkeypatch):
    monkeypatch.setitem(app.extensions, "waterportal.mail.retention", {"last": None})
    first = mail(nayoro, "sent", OLD)
    run_worker(interval=0, limit=10, max_iterations=1)
    assert first not in left(nayoro)

    second = mail(nayoro, "sent", OLD)
    clock.shift(hours=23, minutes=59)
    run_worker(interval=0, limit=10, max_iterations=3)
    assert second in left(nayoro)  # purged less than a day ago: not again

    clock.shift(minutes=1)
    run_worker(interval=0, limit=10, max_iterations=1)
    assert second not in left(nayoro)
    assert [detail["mails"] for _actor, _target, detail in audits(nayoro)] == [1, 1]
    assert {actor for actor, *_ in audits(nayoro)} == {"system:mail"}


def test_a_large_purge_is_spread_over_the_worker_rounds_between_sends(app, app_ctx, nayoro, clock, monkeypatch):
    """A first purge of a large outbox never holds the sending up: each round deletes at most
    ROUND_BATCHES batches, sends what is due, and the next round goes on; once a round finds
    nothing more, the worker waits a day."""
    from waterportal.mail import retention

    monkeypatch.setitem(app.extensions, "waterportal.mail.retention", {"last": None})
    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "ROUND_BATCHES", 2)
    old = [mail(nayoro, "sent", OLD) for _ in range(9)]  # 5 batches of 2
    run_worker(interval=0, limit=10, max_iterations=1)
    assert len(set(old) & set(left(nayoro))) == 5  # 2 batches of 2 deleted in the first round
    run_worker(interval=0, limit=10, max_iterations=2)
    assert not set(old) & set(left(nayoro))  # the rounds after went on until none was left
    later = mail(nayoro, "sent", OLD)
    run_worker(interval=0, limit=10, max_iterations=2)
    assert later in left(nayoro)  # finished: the next purge is a day later
    assert sum(detail["mails"] for _actor, _target, detail in audits(nayoro)) == 9


def test_flask_outbox_purge_prints_counts_per_city_and_dry_run_deletes_nothing(runner, app_ctx, nayoro, kanazawa):
    mails = {tenant.slug: every_kind(tenant) for tenant in (nayoro, kanazawa)}
    mail(kanazawa, "sent", OLD)

    result = runner.invoke(args=["outbox", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "kanazawa: 4 mail(s), 0 job(s) would be deleted",
        "nayoro: 3 mail(s), 0 job(s) would be deleted",
        f"7 mail(s) and 0 mail job(s) queued before {utcnow_naive() - dt.timedelta(days=DAYS):%Y-%m-%d %H:%M} "
        "UTC (90 days) would be deleted",
    ]
    assert set(left(nayoro)) == set(mails["nayoro"].values()) and audits(nayoro) == []

    result = runner.invoke(args=["outbox", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["kanazawa: 4 mail(s), 0 job(s) deleted",
                                              "nayoro: 3 mail(s), 0 job(s) deleted"]
    assert [(actor, detail["mails"]) for actor, _target, detail in audits(kanazawa)] == [("vendor:cli", 4)]

    result = runner.invoke(args=["outbox", "purge", "--days", "1"])  # the operator's shorter cut
    assert result.output.splitlines()[0] == "kanazawa: 2 mail(s), 0 job(s) deleted"  # the 89-day-old ones
    assert set(left(kanazawa).values()) == {"pending", "sending"}
    assert runner.invoke(args=["outbox", "purge", "--days", "0"]).exit_code == 2
