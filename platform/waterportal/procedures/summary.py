"""The daily summary mail of 各種お手続き to each city's ``contact.inquiry_email``
(``flask procedures daily-summary``, from cron: once a day, e.g. at 08:00).

For every city with ``procedures.daily_summary`` switched on: the requests received in the
last 24 hours by kind, the open requests by status (受付 / 処理中 / 差戻し) and since when
the oldest one waits, and the link to the console's queue. No citizen's name, address or
number is in it: it is a count, the details stay behind the console's login.

Set-wise over every city: one statement for the days already summarised, one for the open
counts, one for the new counts, whatever the number of cities; then one outbox row per
city (the mail is rendered in the city's templates). Once per city and city-local day: the
``procedure_daily_summaries`` row (unique per city and day) is inserted with the mail in
the same transaction, so a second run the same day, or an overlapping one, sends nothing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from waterportal.core.time import to_city_time, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.services import portal_url, queue_mail
from waterportal.procedures.kinds import ordered
from waterportal.procedures.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    ProcedureDailySummary,
    ProcedureRequest,
)
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

WINDOW = dt.timedelta(hours=24)
QUEUE_PATH = "/admin/procedures"


def wants_summary(tenant: TenantContext) -> bool:
    """The city switched the summary on and has an address to send it to."""
    return bool(tenant.settings["procedures"]["daily_summary"] and tenant.settings["contact"]["inquiry_email"])


def summarised(days: dict[int, dt.date]) -> set[tuple[int, dt.date]]:
    """``(tenant_id, day)`` of the summaries already queued among ``{tenant_id: day}`` (one
    statement across the cities, by design: a vendor job, filtered to the cities named)."""
    return {tuple(row) for row in db.session.execute(
        select(ProcedureDailySummary.tenant_id, ProcedureDailySummary.day)
        .where(ProcedureDailySummary.tenant_id.in_(list(days)), ProcedureDailySummary.day >= min(days.values()))
        .execution_options(all_tenants=True)
    )}


def send_daily_summaries(cities: Sequence[TenantContext] | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Queue today's summary of every city in ``cities`` (default: all) that wants one and
    has none yet today; ``{slug: 1 queued / 0 already sent today}`` (flushed, not committed)."""
    now = now or utcnow_naive()
    wanted = [t for t in (cities if cities is not None else get_registry().all()) if wants_summary(t)]
    if not wanted:
        return {}
    days = {t.id: to_city_time(now, t.timezone).date() for t in wanted}
    done = summarised(days)
    result = {t.slug: 0 for t in wanted if (t.id, days[t.id]) in done}
    todo = [t for t in wanted if (t.id, days[t.id]) not in done]
    if not todo:
        return result
    todo_ids = [t.id for t in todo]
    open_counts: dict[int, dict[str, int]] = {}
    oldest: dict[int, dt.datetime] = {}
    for tenant_id, status, count, first in db.session.execute(
        select(ProcedureRequest.tenant_id, ProcedureRequest.status, func.count(), func.min(ProcedureRequest.created_at))
        .where(ProcedureRequest.tenant_id.in_(todo_ids), ProcedureRequest.status.in_(OPEN_STATUSES))
        .group_by(ProcedureRequest.tenant_id, ProcedureRequest.status)
        .execution_options(all_tenants=True)
    ):
        open_counts.setdefault(tenant_id, {})[status] = count
        oldest[tenant_id] = min(first, oldest.get(tenant_id, first))
    new_counts: dict[int, dict[str, int]] = {}
    for tenant_id, kind, count in db.session.execute(
        select(ProcedureRequest.tenant_id, ProcedureRequest.kind, func.count())
        .where(ProcedureRequest.tenant_id.in_(todo_ids), ProcedureRequest.created_at >= now - WINDOW)
        .group_by(ProcedureRequest.tenant_id, ProcedureRequest.kind)
        .execution_options(all_tenants=True)
    ):
        new_counts.setdefault(tenant_id, {})[kind] = count
    labels = {kind.key: kind.label for kind in ordered()}
    for tenant in todo:
        with tenant_context(tenant):
            try:
                with db.session.begin_nested():
                    db.session.add(ProcedureDailySummary(tenant_id=tenant.id, day=days[tenant.id], queued_at=now))
            except IntegrityError:  # another run got there first
                result[tenant.slug] = 0
                continue
            counts = open_counts.get(tenant.id, {})
            new = new_counts.get(tenant.id, {})
            queue_mail(
                tenant, tenant.settings["contact"]["inquiry_email"], "procedure_daily_summary",
                day=days[tenant.id],
                new_rows=[(labels.get(kind, kind), count) for kind, count in sorted(new.items(), key=lambda i: -i[1])],
                new_total=sum(new.values()),
                open_rows=[(STATUS_LABELS[s], counts.get(s, 0)) for s in OPEN_STATUSES],
                open_total=sum(counts.values()),
                oldest=to_city_time(oldest.get(tenant.id), tenant.timezone),
                queue_url=portal_url(tenant, QUEUE_PATH),
            )
            result[tenant.slug] = 1
    return result
