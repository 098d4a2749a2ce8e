"""お知らせ: queries for members' pages, writes for the staff console, mail to members.

Times are stored as naive UTC; staff enter them in the city's time zone (see
notices.forms). A notice may have its title and body in English and やさしい日本語 too
(``notice_texts``, issue 13 §10): readers and mail in a language without them get the Japanese
ones with a note (:meth:`ShownNotice.in_language`). Bodies are plain text: :func:`autolink` escapes everything and turns
http(s) URLs into links, so no Markdown and no HTML ever reach a page.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import and_, func, or_, select, update

from waterportal.accounts.language import members_by_language
from waterportal.accounts.models import Member
from waterportal.audit import services as audit
from waterportal.core.i18n import DEFAULT_LANGUAGE, TRANSLATED_LANGUAGES
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import JobCounter, expander, insert_outbox_rows, job_counters, keep_jobs_while, record_job
from waterportal.mail.models import MailJob
from waterportal.mail.services import mail_languages, render_mail
from waterportal.notices.models import Notice, NoticeText
from waterportal.tenancy.context import TenantContext, current_tenant

NOTICE_FIELDS = ("title", "body", "important", "published_at", "expires_at", "mail_members")
# The languages a notice may have its own title and body in (Japanese is the notice itself).
VARIANT_LANGUAGES = TRANSLATED_LANGUAGES
# http(s) URLs: ASCII URL characters only, so a URL ends at Japanese text, a space,
# a quote, a bracket or "<" (never swallowing the sentence around it).
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+", re.IGNORECASE)
TRAILING = ".,;:!?"


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def visible_notices(tenant: TenantContext, now: dt.datetime) -> list[Notice]:
    """Notices of ``tenant`` published by ``now`` and not expired: important first, newest first."""
    moment = _naive_utc(now)
    query = (
        select(Notice)
        .where(
            Notice.tenant_id == tenant.id,
            Notice.published_at <= moment,
            or_(Notice.expires_at.is_(None), Notice.expires_at > moment),
        )
        .order_by(Notice.important.desc(), Notice.published_at.desc(), Notice.id.desc())
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ShownNotice:
    """A notice as the member pages and the notice mail show it: a plain copy, shared by a
    worker's requests. ``variants`` holds its ``(language, title, body)`` in other languages;
    ``untranslated`` is set on a copy in a language it has no text in (Japanese shown)."""

    id: int
    title: str
    body: str
    important: bool
    published_at: dt.datetime
    expires_at: dt.datetime | None
    variants: tuple[tuple[str, str, str], ...] = ()
    untranslated: bool = False

    @classmethod
    def of(cls, notice: Notice, texts: list[NoticeText] | tuple[NoticeText, ...] = ()) -> ShownNotice:
        return cls(notice.id, notice.title, notice.body or "", notice.important, notice.published_at,
                   notice.expires_at, tuple(sorted((t.language, t.title, t.body) for t in texts)))

    def visible_at(self, moment: dt.datetime) -> bool:
        return self.published_at <= moment and (self.expires_at is None or self.expires_at > moment)

    def in_language(self, code: str) -> ShownNotice:
        """The notice in ``code``: its own title and body there, else the Japanese ones marked
        ``untranslated`` (the page and the mail say so in the reader's language)."""
        if code == DEFAULT_LANGUAGE:
            return self
        for language, title, body in self.variants:
            if language == code:
                return replace(self, title=title, body=body)
        return replace(self, untranslated=True)


# tenant id -> (when read, on the monotonic clock; the moment it was read for; the city's
# notices not yet expired then, scheduled ones included, in display order).
_shown: dict[int, tuple[float, dt.datetime, tuple[ShownNotice, ...]]] = {}
_shown_lock = threading.Lock()
_clock = time.monotonic  # tests replace it


def member_notices(tenant: TenantContext, now: dt.datetime) -> list[ShownNotice]:
    """:func:`visible_notices` for the member pages, without a statement on most requests.

    Each worker keeps a copy of the city's notices that had not expired when it read them
    (scheduled ones included) and filters it by ``now`` on every request, so publication
    and expiry take effect to the second. It reads them again when the copy is older than
    ``TENANT_REFRESH_SECONDS`` (2 s; 0 in tests: every call reads) and at once in the
    worker that wrote a notice: a notice written in another worker shows within those
    seconds, as a city's settings do (the host map). The dashboard's notices query was 14%
    of its time (issue 10).
    """
    moment = _naive_utc(now)
    ttl = current_app.config.get("TENANT_REFRESH_SECONDS", 2.0)
    cached = _shown.get(tenant.id)
    if cached is None or _clock() - cached[0] >= ttl or moment < cached[1]:
        # One statement: the notices with their texts in other languages (an outer join).
        rows = db.session.execute(
            select(Notice, NoticeText)
            .outerjoin(NoticeText, and_(NoticeText.tenant_id == Notice.tenant_id, NoticeText.notice_id == Notice.id))
            .where(Notice.tenant_id == tenant.id, or_(Notice.expires_at.is_(None), Notice.expires_at > moment))
            .order_by(Notice.important.desc(), Notice.published_at.desc(), Notice.id.desc())
        ).all()
        found: dict[int, tuple[Notice, list[NoticeText]]] = {}
        for notice, text in rows:
            texts = found.setdefault(notice.id, (notice, []))[1]
            if text is not None:
                texts.append(text)
        notices = tuple(ShownNotice.of(notice, texts) for notice, texts in found.values())
        cached = (_clock(), moment, notices)
        with _shown_lock:
            _shown[tenant.id] = cached
    return [notice for notice in cached[2] if notice.visible_at(moment)]


def forget_member_notices(tenant_id: int | None = None) -> None:
    """Drop this worker's copy of a city's notices (every city's with None)."""
    with _shown_lock:
        if tenant_id is None:
            _shown.clear()
        else:
            _shown.pop(tenant_id, None)


def is_new(notice: Notice | ShownNotice, now: dt.datetime, tenant: TenantContext) -> bool:
    """True while the notice is younger than the city's ``notices.new_badge_days`` (「New」)."""
    days = tenant.settings["notices"]["new_badge_days"]
    age = _naive_utc(now) - notice.published_at
    return dt.timedelta(0) <= age < dt.timedelta(days=days)


def status(notice: Notice, now: dt.datetime) -> str:
    """「予約」 (scheduled), 「掲載中」 (visible) or 「掲載終了」 (expired), for the console."""
    moment = _naive_utc(now)
    if notice.published_at > moment:
        return "予約"
    if notice.expires_at is not None and notice.expires_at <= moment:
        return "掲載終了"
    return "掲載中"


def all_notices() -> list[Notice]:
    """Every notice of the current city, newest publication first (console list)."""
    return list(db.session.scalars(select(Notice).order_by(Notice.published_at.desc(), Notice.id.desc())))


def get_notice(notice_id: int) -> Notice | None:
    """A notice of the current city by id (another city's id finds nothing)."""
    return db.session.scalar(select(Notice).where(Notice.tenant_id == current_tenant().id, Notice.id == notice_id))


def notice_texts(notice_ids: list[int]) -> dict[int, dict[str, NoticeText]]:
    """notice id -> {language: its title and body there}, for notices of the current city
    (one statement; the console's list and form)."""
    found: dict[int, dict[str, NoticeText]] = {}
    if notice_ids:
        for text in db.session.scalars(select(NoticeText).where(NoticeText.notice_id.in_(notice_ids))
                                       .order_by(NoticeText.notice_id, NoticeText.language)):
            found.setdefault(text.notice_id, {})[text.language] = text
    return found


def autolink(text: str | None) -> Markup:
    """Escape ``text`` and link its http(s) URLs (new tab, no referrer); keep line breaks."""
    text = text or ""
    out: list[str] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        out.append(str(escape(text[position:match.start()])))
        safe = escape(url)
        out.append(f'<a href="{safe}" rel="noopener noreferrer" target="_blank">{safe}</a>')
        position = end
    out.append(str(escape(text[position:])))
    html = "".join(out).replace("\r\n", "\n").replace("\n", "<br>\n")
    return Markup(html)  # noqa: S704 - every piece was escaped above


# ``texts`` in the writes below: {language: (title, body)} to write, or None to remove the
# language's text; a language left out keeps what it has (a city that stops offering English
# keeps its notices' English texts).
Texts = dict[str, tuple[str, str] | None]


def _snapshot(notice: Notice, texts: dict[str, NoticeText]) -> dict[str, Any]:
    shown = {k: (v.isoformat(timespec="minutes") if isinstance(v := getattr(notice, k), dt.datetime) else v)
             for k in NOTICE_FIELDS}
    for code in VARIANT_LANGUAGES:
        text = texts.get(code)
        shown[f"title_{code}"] = text.title if text else None
        shown[f"body_{code}"] = text.body if text else None
    return shown


def _write_texts(notice: Notice, stored: dict[str, NoticeText], texts: Texts) -> None:
    """Add, change or remove the notice's texts in other languages as ``texts`` says."""
    for code, value in texts.items():
        if code not in VARIANT_LANGUAGES:
            raise ValueError(f"no notice texts in {code!r}")
        current = stored.get(code)
        if value is None:
            if current is not None:
                db.session.delete(current)
        elif current is None:
            db.session.add(NoticeText(notice_id=notice.id, language=code, title=value[0], body=value[1]))
        else:
            current.title, current.body = value


def create_notice(tenant: TenantContext, actor: str, remote_addr: str = "", texts: Texts | None = None,
                  **fields: Any) -> Notice:
    """Add a notice (flushed) with its texts in other languages and audit it (the title and
    the languages it has); mail it now when it is published and asks for mail."""
    notice = Notice(**{k: fields[k] for k in NOTICE_FIELDS if k in fields})
    db.session.add(notice)
    db.session.flush()
    _write_texts(notice, {}, texts or {})
    db.session.flush()
    forget_member_notices(notice.tenant_id)
    languages = [code for code in VARIANT_LANGUAGES if (texts or {}).get(code)]
    audit.record(actor, "notice.create", target=f"notice:{notice.id}", remote_addr=remote_addr, title=notice.title,
                 **({"languages": languages} if languages else {}))
    mail_if_due(tenant, notice, utcnow_naive())
    return notice


def update_notice(tenant: TenantContext, notice: Notice, actor: str, remote_addr: str = "",
                  texts: Texts | None = None, **fields: Any) -> list[str]:
    """Change a notice and its texts in other languages; audit the changed fields (old -> new;
    ``title_en``, ``body_easy``... for those texts) and return their names."""
    stored = notice_texts([notice.id]).get(notice.id, {})
    before = _snapshot(notice, stored)
    for key in NOTICE_FIELDS:
        if key in fields:
            setattr(notice, key, fields[key])
    _write_texts(notice, stored, texts or {})
    db.session.flush()
    after = _snapshot(notice, notice_texts([notice.id]).get(notice.id, {}))
    changed = [k for k in before if before[k] != after[k]]
    if changed:
        db.session.flush()
        forget_member_notices(notice.tenant_id)
        audit.record(actor, "notice.update", target=f"notice:{notice.id}", remote_addr=remote_addr,
                     changes={k: [before[k], after[k]] for k in changed})
        mail_if_due(tenant, notice, utcnow_naive())
    return changed


def delete_notice(notice: Notice, actor: str, remote_addr: str = "") -> None:
    """Delete a notice and audit it (with its title, so the log still says what it was)."""
    audit.record(actor, "notice.delete", target=f"notice:{notice.id}", remote_addr=remote_addr, title=notice.title)
    db.session.delete(notice)
    db.session.flush()
    forget_member_notices(notice.tenant_id)


def mail_if_due(tenant: TenantContext, notice: Notice, now: dt.datetime) -> MailJob | None:
    """Hand a published notice that asks for mail to the outbox worker, once; return the job.

    The notice is claimed with ``UPDATE ... WHERE mailed_at IS NULL``, so two runs at
    once (publish time and the cron command) never mail twice. Only the job is recorded
    here (a constant number of statements, whatever the number of members): the worker
    queues the mails (:func:`_expand_notice_mail`).
    """
    moment = _naive_utc(now)
    if not notice.mail_members or notice.mailed_at is not None or notice.published_at > moment:
        return None
    if notice.expires_at is not None and notice.expires_at <= moment:
        return None
    claimed = db.session.execute(
        update(Notice).where(Notice.id == notice.id, Notice.mailed_at.is_(None)).values(mailed_at=moment)
    ).rowcount
    db.session.refresh(notice, ["mailed_at"])
    if not claimed:
        return None
    # Members who join after this moment were not there when the notice went out.
    upto = db.session.scalar(select(func.max(Member.id)).where(Member.tenant_id == tenant.id)) or 0
    return record_job(tenant, "notice", notice.id, recipients_upto=upto)


# The console shows a notice's mail counter from its job: the retention keeps the job while the notice exists.
keep_jobs_while("notice", Notice)


@expander("notice")
def _expand_notice_mail(tenant: TenantContext, job: MailJob, now: dt.datetime) -> int:
    """The worker's half: one mail per member who opted in, set-wise; audited with the count.

    The notice mail has no per-member part (the template gets the city and the notice), so
    it is rendered once per language (issue 13 §10: the member's ``language``; Japanese for
    anything else), with the notice's own title and body in that language or the Japanese ones
    and a note, and written with one ``INSERT ... SELECT`` from that language's members."""
    notice = db.session.scalar(select(Notice).where(Notice.tenant_id == tenant.id, Notice.id == job.ref_id))
    if notice is None:  # deleted before the worker came to it
        return 0
    shown = ShownNotice.of(notice, db.session.scalars(
        select(NoticeText).where(NoticeText.tenant_id == tenant.id, NoticeText.notice_id == notice.id)).all())
    queued = 0
    # A member whose language the city no longer offers is mailed in Japanese.
    for code, speaks in members_by_language(mail_languages(tenant)):
        recipients = (select(Member.id, Member.email)
                      .where(Member.tenant_id == tenant.id, Member.notify_notices.is_(True),
                             Member.id <= job.recipients_upto, speaks))
        subject, body = render_mail(tenant, "notice", code, notice=shown.in_language(code))
        queued = insert_outbox_rows(tenant, job, "notice", subject, body, recipients, now)  # the job's total so far
    audit.record("system", "notice.mail", target=f"notice:{notice.id}", recipients=queued)
    return queued


def mail_counters(notices: list[Notice]) -> dict[int, JobCounter]:
    """notice id -> its mail job's counter (queued, sent, waiting, failed), for the console."""
    return job_counters("notice", [n.id for n in notices if n.mail_members and n.mailed_at is not None])


def mail_due_notices(tenant: TenantContext, now: dt.datetime) -> int:
    """Hand every notice of ``tenant`` that is published, asks for mail and was not mailed yet
    to the outbox worker; return how many notices."""
    moment = _naive_utc(now)
    due = db.session.scalars(
        select(Notice).where(
            Notice.mail_members.is_(True), Notice.mailed_at.is_(None), Notice.published_at <= moment,
        )
    ).all()
    return sum(mail_if_due(tenant, notice, moment) is not None for notice in due)
