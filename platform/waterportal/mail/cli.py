"""Operator CLI: ``flask outbox send [--loop]``, ``flask outbox status``, ``flask outbox retry``,
``flask outbox check``, ``flask outbox purge``."""
from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.delivery import deliver_committed
from waterportal.mail.jobs import expand_due, jobs_by_city, jobs_in_progress
from waterportal.mail.retention import purge, purge_if_due, retention_days
from waterportal.mail.sender import SendCounts, send_due
from waterportal.mail.services import outbox_status, queue_mail, retry_mail
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command

log = logging.getLogger("waterportal.mail")

outbox_cli = AppGroup("outbox", help="Send and inspect the mail outbox.")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the current message finishes first); restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame) -> None:
        log.info("outbox worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(interval: float, limit: int, max_iterations: int | None = None,
               stop: threading.Event | None = None) -> SendCounts:
    """Expand pending mail jobs (mail.jobs), then send what is due, every ``interval`` seconds
    until ``stop`` is set or the iterations run out; once a day, purge what is past the
    retention (mail.retention).

    A failing round (database restarting, ...) is logged and retried; the worker stays up.
    """
    stop = stop or threading.Event()
    total = SendCounts()
    iteration = 0
    while not stop.is_set():
        try:
            queued = expand_due()
            if queued:
                click.echo(f"mail jobs: {queued} mail(s) queued")
            counts = send_due(limit=limit)
            total.add(counts)
            if counts.sent or counts.retrying or counts.failed:
                click.echo(str(counts))
            # A full round means more may be due: go again without sleeping.
            busy = counts.sent + counts.retrying + counts.failed >= limit
            purged = purge_if_due()
            if purged is not None and purged.cities:
                click.echo(f"retention: {sum(purged.mails.values())} mail(s), {sum(purged.jobs.values())} job(s) "
                           "deleted")
        except Exception:
            log.exception("outbox worker round failed")
            db.session.rollback()
            busy = False
        iteration += 1
        if max_iterations is not None and iteration >= max_iterations:
            break
        if not busy:
            stop.wait(interval)
    return total


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker (stop with SIGTERM or Ctrl-C).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between rounds with --loop.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1),
              help="Most mails per round.")
@click.option("--max-iterations", type=click.IntRange(min=1), default=None,
              help="With --loop: stop after this many rounds (tests, cron-style runs).")
def send_command(loop: bool, interval: float, limit: int, max_iterations: int | None) -> None:
    """Expand pending mail jobs and send the mails that are due (every city), once or as a worker loop."""
    if not loop:
        queued = expand_due()
        if queued:
            click.echo(f"mail jobs: {queued} mail(s) queued")
        click.echo(str(send_due(limit=limit)))
        return
    stop = threading.Event()
    with _stop_on_signals(stop):
        click.echo(f"outbox worker started (every {interval:g}s, {limit} per round)")
        total = run_worker(interval, limit, max_iterations, stop)
    click.echo(f"outbox worker stopped: {total}")


def _age(seconds: int | None) -> str:
    return f"{seconds}s" if seconds is not None else "-"


@outbox_cli.command("status")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(min=0),
              help="Also list the fan-out jobs recorded in the last HOURS hours, finished or not.")
def status_command(hours: int) -> None:
    """Pending / sent / failed / expired mails per city, and how long the oldest pending one has
    waited; then the fan-out jobs (notice and bill mail) per city, and each job not finished yet
    (or recorded in the last --hours) with its mails queued / waiting / sent / failed."""
    now = utcnow_naive()
    rows = outbox_status(now)
    click.echo(f"{'city':<16}{'pending':>9}{'sent':>9}{'failed':>9}{'expired':>9}  oldest pending")
    for row in rows:
        click.echo(f"{row.slug:<16}{row.pending:>9}{row.sent:>9}{row.failed:>9}{row.expired:>9}  "
                   f"{_age(row.oldest_pending_age_seconds)}")
    slugs = {row.tenant_id: row.slug for row in rows}
    by_city = jobs_by_city(now)
    click.echo("")
    click.echo(f"mail jobs\n{'city':<16}{'pending':>9}{'delivering':>11}{'done':>9}{'failed':>9}  oldest pending")
    for tenant_id, slug in sorted(slugs.items(), key=lambda item: item[1]):
        if (city := by_city.get(tenant_id)) is not None:
            click.echo(f"{slug:<16}{city.pending:>9}{city.delivering:>11}{city.done:>9}{city.failed:>9}  "
                       f"{_age(city.oldest_pending_age_seconds)}")
    jobs = jobs_in_progress(now - dt.timedelta(hours=hours))
    click.echo("")
    click.echo(f"{'job':>8}  {'city':<16}{'kind':<12}{'state':<11}{'queued':>8}{'waiting':>9}{'sent':>9}{'failed':>9}"
               "  recorded (UTC)    expansion tries")
    for job in jobs:
        tries = f"  {job.attempts}: {job.last_error}" if job.attempts else ""
        click.echo(f"{job.job_id:>8}  {slugs.get(job.tenant_id, job.tenant_id)!s:<16}{job.kind:<12}{job.state:<11}"
                   f"{job.queued:>8}{job.waiting:>9}{job.sent:>9}{job.failed:>9}  {job.created_at:%Y-%m-%d %H:%M}"
                   f"{tries}")


@outbox_cli.command("retry")
@click.option("--failed", "include_failed", is_flag=True,
              help="Also give mails and mail jobs that failed for good a fresh set of tries (not dead code mails).")
@click.option("--city", "slug", default=None, help="Only this city (slug); default every city.")
def retry_command(include_failed: bool, slug: str | None) -> None:
    """Make mails and mail jobs waiting after failed tries due now (and failed ones with --failed); audited."""
    tenant = city_for_command(slug, option="--city") if slug else None
    result = retry_mail("vendor:cli", failed=include_failed, tenant=tenant)
    db.session.commit()
    for city in sorted(set(result.waiting) | set(result.revived)):
        click.echo(f"{city}: {result.waiting.get(city, 0)} waiting, {result.revived.get(city, 0)} failed -> due now")
    for city in sorted(set(result.jobs_waiting) | set(result.jobs_revived)):
        click.echo(f"{city}: mail jobs {result.jobs_waiting.get(city, 0)} waiting, "
                   f"{result.jobs_revived.get(city, 0)} failed -> due now")
    if result.jobs_total:
        click.echo(f"{result.jobs_total} mail job(s) due now")
    click.echo(f"{result.total} mail(s) due now; the worker (flask outbox send) sends them")
    if result.skipped_expired:
        click.echo(f"{result.skipped_expired} failed code mail(s) left failed: their code has expired")


@outbox_cli.command("check")
@click.option("--city", "slug", required=True, help="City slug, e.g. nayoro")
@click.option("--to", "to_address", required=True, help="Where to send the check mail")
def check_command(slug: str, to_address: str) -> None:
    """Queue and send a check mail with the city's sender and signature (mail set-up test)."""
    tenant = city_for_command(slug, option="--city")
    with tenant_context(tenant):
        message = queue_mail(tenant, to_address, "check")
        message_id = message.id
    db.session.commit()
    counts = deliver_committed()
    state = current_app.extensions["mail"]
    click.echo(f"check mail {message_id} to {to_address} via {state.server}:{state.port}: {counts}")
    if not counts.sent:
        raise SystemExit(1)


@outbox_cli.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Delete what was queued more than DAYS days ago (default: MAIL_RETENTION_DAYS).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def purge_command(days: int | None, dry_run: bool) -> None:
    """Delete sent, failed and expired mails past the retention, and the finished mail jobs nothing
    shows any more, in every city (the worker does this once a day); per-city counts; audited."""
    days = days if days is not None else retention_days()
    result = purge("vendor:cli", days=days, dry_run=dry_run)
    verb = "would be deleted" if dry_run else "deleted"
    for city in result.cities:
        click.echo(f"{city}: {result.mails.get(city, 0)} mail(s), {result.jobs.get(city, 0)} job(s) {verb}")
    click.echo(f"{sum(result.mails.values())} mail(s) and {sum(result.jobs.values())} mail job(s) queued before "
               f"{result.cutoff:%Y-%m-%d %H:%M} UTC ({days} days) {verb}")
