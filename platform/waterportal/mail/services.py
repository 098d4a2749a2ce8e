"""Queue mail in the outbox, in the same transaction as the change that causes it.

Mail bodies are plain-text Jinja templates resolved through the city's template chain
(``mail/<name>.txt``: a city may override any of them). The first line of the rendered
template is the subject, then a blank line, then the body; the city's signature is
appended. Links are built on the city's primary host (:func:`portal_url`), never on the
request's Host header.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import func, select, update

from waterportal.audit import services as audit
from waterportal.core.i18n import (
    DEFAULT_LANGUAGE,
    current_language,
    force_language,
    in_order,
)
from waterportal.core.text import squash_spaces
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import retry_jobs, sender_of
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext, tenant_context
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


def _template_renderer(tenant: TenantContext, template: str) -> Callable[..., tuple[str, str]]:
    """``render(**context) -> (subject, body with signature)`` in the current language."""
    env = current_app.jinja_env
    tmpl = env.select_template(chain(tenant, f"mail/{template}.txt"))
    signature = tenant.settings["mail"].get("signature", "")
    common = {"tenant": tenant, "settings": tenant.settings, "portal_url": lambda p="/": portal_url(tenant, p)}

    def render(**context) -> tuple[str, str]:
        text = tmpl.render(**common, **context)
        subject, _, body = text.strip("\n").partition("\n")
        body = body.strip("\n") + "\n"
        if signature:
            body += f"\n――――――――――――――――――――\n{tenant.portal_name}\n{signature}\n"
        return _subject(subject), body

    return render


def mail_languages(tenant: TenantContext) -> list[str]:
    """The languages ``tenant`` offers now (``[languages] offered``, a console setting), in
    :data:`LANGUAGES` order, Japanese always: the languages its mail is written in."""
    return in_order(tenant.settings["languages"]["offered"])


def mail_language(tenant: TenantContext, code: str | None) -> str:
    """The language a mail of ``tenant`` goes out in for a recipient whose language is ``code``:
    ``code`` if the city offers it, else Japanese (a member who chose English keeps it stored,
    but while the city does not offer English their mail is Japanese)."""
    return code if code in mail_languages(tenant) else DEFAULT_LANGUAGE


def mail_renderer(tenant: TenantContext, template: str, language: str | None = None) -> Callable[..., tuple[str, str]]:
    """``render(**context) -> (subject, body with signature)`` for ``mail/<template>.txt`` of
    ``tenant``: the template is looked up once, for a worker that renders many mails.

    ``language`` (core/i18n.py) is the recipient's: the mail is rendered in it whatever the
    request's language; None renders in the current language (Japanese outside a request).
    A language the city does not offer (any more) is Japanese (:func:`mail_language`)."""
    render = _template_renderer(tenant, template)

    def render_in_language(**context) -> tuple[str, str]:
        with force_language(mail_language(tenant, language or current_language())):
            return render(**context)

    return render_in_language


@contextmanager
def renderer_in(tenant: TenantContext, template: str, language: str | None) -> Iterator[Callable[..., tuple[str, str]]]:
    """Within the block, ``render(**context)`` renders ``mail/<template>.txt`` in ``language``
    (unknown or None: Japanese), set once for the block: a worker rendering many mails groups
    its recipients by language instead of switching the language around every mail. A language
    the city does not offer (any more) is Japanese (:func:`mail_language`)."""
    with force_language(mail_language(tenant, language)):
        yield _template_renderer(tenant, template)


def render_mail(tenant: TenantContext, template: str, language: str | None = None, **context) -> tuple[str, str]:
    """Render ``mail/<template>.txt`` for ``tenant`` in ``language``; return (subject, body
    with signature).

    The subject is one line of at most :data:`SUBJECT_MAX` characters (cut with "…")."""
    return mail_renderer(tenant, template, language)(**context)


# address -> the member's language or None; installed by the app (accounts/language.py), so
# mail to a member follows the language stored on them (issue 13 §10) whoever sends it.
_language_for_address: Callable[[TenantContext, str], str | None] = lambda _tenant, _address: None  # noqa: E731


def install_recipient_language(lookup: Callable[[TenantContext, str], str | None]) -> None:
    """Install how a recipient's language is found (the app factory passes the members')."""
    global _language_for_address
    _language_for_address = lookup


def queue_mail(tenant: TenantContext, to_address: str, template: str, *, valid_seconds: int | None = None,
               **context) -> OutboxMessage:
    """Add a mail to the outbox of ``tenant`` (flushed, not committed: the caller commits).

    It is delivered right after the commit (see mail.delivery) and retried with backoff
    by the sender (mail.sender); a rollback of the caller's transaction drops it too.
    A mail carrying a code or a link passes its lifetime as ``valid_seconds``: once that
    has passed the sender drops it (status ``expired``) instead of delivering a dead code.
    """
    language = _language_for_address(tenant, to_address)
    subject, body = render_mail(tenant, template, language, **context)
    sender, domain = sender_of(tenant)
    now = utcnow_naive()
    message = OutboxMessage(
        tenant_id=tenant.id,
        to_address=to_address,
        sender=sender,
        subject=subject,
        body=body,
        kind=template,
        message_id=make_msgid(domain=domain),
        expires_at=now + dt.timedelta(seconds=valid_seconds) if valid_seconds is not None else None,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


@dataclass(frozen=True)
class CityOutbox:
    """Outbox counts of one city (``pending`` includes mails being sent right now)."""

    slug: str
    pending: int
    sent: int
    failed: int
    oldest_pending_age_seconds: int | None
    expired: int = 0
    tenant_id: int = 0


def outbox_status(now: dt.datetime | None = None) -> list[CityOutbox]:
    """Pending / sent / failed / expired per city (every city, zeros included), by slug."""
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
        waiting = [by_status[s] for s in ("pending", "sending") if s in by_status]
        oldest = min((w[1] for w in waiting), default=None)
        result.append(CityOutbox(
            slug=tenant.slug,
            pending=sum(w[0] for w in waiting),
            sent=by_status.get("sent", (0, None))[0],
            failed=by_status.get("failed", (0, None))[0],
            oldest_pending_age_seconds=max(0, int((now - oldest).total_seconds())) if oldest else None,
            expired=by_status.get("expired", (0, None))[0],
            tenant_id=tenant.id,
        ))
    return result


@dataclass(frozen=True)
class RetryResult:
    """What :func:`retry_mail` did: mails made due now, per city slug and in total."""

    waiting: dict[str, int]  # backing off after failed tries: due now
    revived: dict[str, int]  # failed for good: pending again with a fresh set of tries
    skipped_expired: int  # failed code mails whose code has died meanwhile: left failed
    # Fan-out jobs (mail.jobs): backing off after failed expansions, and failed ones (--failed).
    jobs_waiting: dict[str, int] = field(default_factory=dict)
    jobs_revived: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Mails that are due now because of this retry."""
        return sum(self.waiting.values()) + sum(self.revived.values())

    @property
    def jobs_total(self) -> int:
        """Fan-out jobs that the worker expands now because of this retry."""
        return sum(self.jobs_waiting.values()) + sum(self.jobs_revived.values())


def retry_mail(actor: str, *, failed: bool = False, tenant: TenantContext | None = None,
               remote_addr: str = "", now: dt.datetime | None = None) -> RetryResult:
    """Make every mail that is backing off due now, and with ``failed`` give failed mails
    a fresh set of tries, in one city or all; the same for fan-out jobs whose expansion failed
    (mail.jobs.retry_jobs); one audit entry per city touched. Flushes.

    Failed code or link mails whose code has died meanwhile stay failed: they would only
    be dropped as expired. Used by ``flask outbox retry`` and the vendor console.
    """
    now = now or utcnow_naive()
    alive = (OutboxMessage.expires_at.is_(None)) | (OutboxMessage.expires_at > now)
    groups = {
        "waiting": (OutboxMessage.status == "pending", OutboxMessage.attempts > 0, OutboxMessage.next_attempt_at > now),
        "revived": (OutboxMessage.status == "failed", alive),
    }
    if not failed:
        del groups["revived"]
    scope = (OutboxMessage.tenant_id == tenant.id,) if tenant is not None else ()
    by_id = {t.id: t for t in get_registry().all()}
    found: dict[str, dict[int, int]] = {}
    for name, where in groups.items():
        # A vendor job over every city (or the one named, filtered explicitly): set-wise.
        rows = db.session.execute(
            select(OutboxMessage.tenant_id, func.count()).where(*where, *scope)
            .group_by(OutboxMessage.tenant_id).execution_options(all_tenants=True)
        )
        found[name] = dict(rows.all())
        values = {"next_attempt_at": now}
        if name == "revived":
            values.update(status="pending", attempts=0)
        db.session.execute(
            update(OutboxMessage).where(*where, *scope).values(**values)
            .execution_options(all_tenants=True, synchronize_session=False)
        )
    skipped = 0
    if failed:
        skipped = db.session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status == "failed", ~alive, *scope).execution_options(all_tenants=True)
        ) or 0
    jobs = retry_jobs(now, failed=failed, tenant_id=tenant.id if tenant is not None else None)
    waiting, revived = found.get("waiting", {}), found.get("revived", {})
    for tenant_id in sorted(set(waiting) | set(revived) | set(jobs.waiting) | set(jobs.revived)):
        with tenant_context(by_id[tenant_id]):
            detail = {"waiting": waiting.get(tenant_id, 0), "failed": revived.get(tenant_id, 0)}
            if tenant_id in jobs.waiting or tenant_id in jobs.revived:
                detail.update(jobs_waiting=jobs.waiting.get(tenant_id, 0), jobs_failed=jobs.revived.get(tenant_id, 0))
            audit.record(actor, "mail.retry", target=by_id[tenant_id].slug, remote_addr=remote_addr, **detail)
            db.session.flush()
    return RetryResult(
        waiting={by_id[i].slug: n for i, n in waiting.items()},
        revived={by_id[i].slug: n for i, n in revived.items()},
        skipped_expired=skipped,
        jobs_waiting={by_id[i].slug: n for i, n in jobs.waiting.items()},
        jobs_revived={by_id[i].slug: n for i, n in jobs.revived.items()},
    )
