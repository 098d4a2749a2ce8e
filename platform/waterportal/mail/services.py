"""Queue mail in the outbox, in the same transaction as the change that causes it.

Mail bodies are plain-text Jinja templates resolved through the city's template chain
(``mail/<name>.txt``: a city may override any of them). The first line of the rendered
template is the subject, then a blank line, then the body; the city's signature is
appended. Links are built on the city's primary host (:func:`portal_url`), never on the
request's Host header.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import formataddr

from flask import current_app
from sqlalchemy import func, select

from waterportal.core.text import squash_spaces
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.templating import chain


def portal_url(tenant: TenantContext, path: str = "/") -> str:
    """Absolute URL on the city's primary host (config PORTAL_BASE_URL, e.g. https://{host})."""
    base = current_app.config.get("PORTAL_BASE_URL", "https://{host}").format(host=tenant.primary_host)
    return base.rstrip("/") + "/" + path.lstrip("/")


# The outbox column's length: a 200-character portal name around a 200-character notice
# title would not fit, and PostgreSQL refuses (rather than cuts) a longer value.
SUBJECT_MAX = OutboxMessage.__table__.c.subject.type.length


def _subject(line: str) -> str:
    line = squash_spaces(line)
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


def render_mail(tenant: TenantContext, template: str, **context) -> tuple[str, str]:
    """Render ``mail/<template>.txt`` for ``tenant``; return (subject, body with signature).

    The subject is one line of at most :data:`SUBJECT_MAX` characters (cut with "…")."""
    env = current_app.jinja_env
    tmpl = env.select_template(chain(tenant, f"mail/{template}.txt"))
    text = tmpl.render(tenant=tenant, settings=tenant.settings, portal_url=lambda p="/": portal_url(tenant, p), **context)
    subject, _, body = text.strip("\n").partition("\n")
    signature = tenant.settings["mail"].get("signature", "")
    body = body.strip("\n") + "\n"
    if signature:
        body += f"\n――――――――――――――――――――\n{tenant.portal_name}\n{signature}\n"
    return _subject(subject), body


def queue_mail(tenant: TenantContext, to_address: str, template: str, **context) -> OutboxMessage:
    """Add a mail to the outbox of ``tenant`` (flushed, not committed: the caller commits).

    It is delivered right after the commit (see mail.delivery) and retried with backoff
    by the sender (mail.sender); a rollback of the caller's transaction drops it too.
    """
    subject, body = render_mail(tenant, template, **context)
    mail_settings = tenant.settings["mail"]
    message = OutboxMessage(
        tenant_id=tenant.id,
        to_address=to_address,
        sender=formataddr((mail_settings["sender_name"], mail_settings["sender_address"])),
        subject=subject,
        body=body,
        kind=template,
    )
    db.session.add(message)
    db.session.flush()
    return message


@dataclass(frozen=True)
class CityOutbox:
    """Outbox counts of one city."""

    slug: str
    pending: int
    sent: int
    failed: int
    oldest_pending_age_seconds: int | None


def outbox_status(now: dt.datetime | None = None) -> list[CityOutbox]:
    """Pending / sent / failed per city (every city, zeros included), ordered by slug."""
    now = now or utcnow_naive()
    query = (
        select(OutboxMessage.tenant_id, OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .group_by(OutboxMessage.tenant_id, OutboxMessage.status)
        .execution_options(all_tenants=True)  # a platform-wide report
    )
    counts: dict[int, dict[str, tuple[int, dt.datetime]]] = {}
    for tenant_id, status, count, oldest in db.session.execute(query):
        counts.setdefault(tenant_id, {})[status] = (count, oldest)
    result = []
    for tenant in get_registry().all():
        by_status = counts.get(tenant.id, {})
        pending = by_status.get("pending")
        age = max(0, int((now - pending[1]).total_seconds())) if pending else None
        result.append(CityOutbox(
            slug=tenant.slug,
            pending=pending[0] if pending else 0,
            sent=by_status.get("sent", (0, None))[0],
            failed=by_status.get("failed", (0, None))[0],
            oldest_pending_age_seconds=age,
        ))
    return result
