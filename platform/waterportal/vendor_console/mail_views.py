"""The vendor console's mail: the fan-out jobs of every city, and retrying a city's waiting
and failed mails (audited).

The outbox figures per city (pending, retrying, failed) come from one GROUP BY in
:mod:`.overview`; the jobs page from :func:`waterportal.mail.jobs.jobs_by_city` and
:func:`~waterportal.mail.jobs.jobs_in_progress` (one statement each, whatever the number of
cities), as ``flask outbox status`` shows them; the retry is
:func:`waterportal.mail.services.retry_mail`, the service ``flask outbox retry --failed --city``
calls too.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from waterportal.core.time import utcnow_naive
from waterportal.core.web import client_address, page_response
from waterportal.extensions import db
from waterportal.mail.jobs import jobs_by_city, jobs_in_progress
from waterportal.mail.services import retry_mail
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.schemas import SLUG
from waterportal.vendor_console.auth import vendor_required
from waterportal.vendor_console.blueprint import vendor

RECENT = dt.timedelta(hours=24)  # finished jobs listed on the page


@vendor.get("/mail")
@vendor_required
def mail_jobs():
    """メール配信の状況: per city, the fan-out jobs waiting for the worker, delivering and done;
    then every job not finished yet or recorded in the last 24 hours, with its mails."""
    now = utcnow_naive()
    by_city, jobs = jobs_by_city(now), jobs_in_progress(now - RECENT)
    # Only the cities that have jobs, in one statement (not the registry's 1,741 contexts).
    ids = set(by_city) | {job.tenant_id for job in jobs}
    cities = {tenant.id: tenant for tenant in db.session.scalars(select(Tenant).where(Tenant.id.in_(ids)))}
    rows = sorted(((cities[tenant_id], figures) for tenant_id, figures in by_city.items() if tenant_id in cities),
                  key=lambda row: (-row[1].pending, -row[1].delivering, row[0].slug))
    jobs = [(cities.get(job.tenant_id), job) for job in jobs]
    return page_response(render_template("vendor/mail.html", me=g.vendor_staff, title="メール配信の状況",
                                         cities=rows, jobs=jobs))


@vendor.post("/cities/<slug>/mail/retry")
@vendor_required
def retry_city_mail(slug: str):
    """メールの再送: the city's mails waiting after failed tries, and those that failed for
    good (unless their code has expired), are due now; recorded in the city's audit log."""
    # A slug that cannot be one (a NUL would reach PostgreSQL, which refuses it) is no city.
    tenant = get_registry().by_slug(slug) if SLUG.fullmatch(slug) else None
    if tenant is None:
        abort(404)
    result = retry_mail(g.vendor_staff.actor, failed=True, tenant=tenant, remote_addr=client_address())
    db.session.commit()
    waiting, revived = result.waiting.get(tenant.slug, 0), result.revived.get(tenant.slug, 0)
    message = f"{tenant.name}: 再送待ち {waiting} 件、送信失敗 {revived} 件を、すぐに再送します。"
    if result.jobs_total:
        message += f"展開できなかった配信ジョブ {result.jobs_total} 件も展開し直します。"
    if result.skipped_expired:
        message += f"確認コードの有効期限が切れた {result.skipped_expired} 件は再送しません。"
    flash(message, "info")
    return redirect(url_for("vendor.index"), code=303)
