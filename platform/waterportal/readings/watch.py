"""見守り (issue 14 §6): a member names a family member's address and a number of days for one of
their contracts with daily readings; when that contract shows no use for that many days, the
address is mailed, once per episode.

* **The address is verified before it is used.** Setting it (or changing it) mails a six-digit
  code to that address (accounts.verification, purpose ``watch``, bound to the member); the
  family member tells the member the code, the member types it in. Until then the watch is
  inactive and the portal has mailed that address nothing but the code, so it never mails a
  stranger. Changing only the contract or the days of a verified watch keeps it verified.
* **No use** means: the contract's newest reading is recent (yesterday or today in the city:
  the readings of a day arrive the next morning), and the ``days`` days ending with it each
  have a reading of 0 litres. A day without a reading is not a day without use (the meter
  may not have reported), so a gap postpones the mail.
* **Once per episode.** An episode is named by the contract's last day with use before the
  quiet days (``NO_USE_YET`` when its readings show none). The mail is claimed by writing that
  day into ``watches.alerted_last_use``; the same episode never mails again, and a new one
  starts only when use resumes (a later day with use) and stops again.
* **Set-wise, out of the request.** A readings import records a ``watch`` job; the outbox
  worker runs :func:`_expand_watch`: one statement finds and claims every due watch of the
  city, then the mails are rendered (in the member's language) and inserted in one batch.
  ``flask readings watch`` records the same job for a daily run without an import.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask_babel import gettext
from sqlalchemy import Date, String, and_, case, cast, delete, exists, func, literal, or_, select, update

from waterportal.accounts.models import Member
from waterportal.accounts.verification import CheckResult, check_code, issue_code
from waterportal.audit import services as audit
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.i18n import valid_language
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import JobMails, expander, record_job
from waterportal.mail.models import MailJob
from waterportal.mail.services import mail_renderer, queue_mail
from waterportal.readings.models import MeterReading, Watch
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.readings")

PURPOSE = "watch"  # the verification code's purpose
DAYS = range(1, 8)  # the member chooses 1-7 days
# How far back the check reads: the longest window, the freshness allowance and room to find
# the last day with use. A contract quiet for longer is one long episode (NO_USE_YET).
LOOKBACK_DAYS = 40
NO_USE_YET = dt.date(1900, 1, 1)  # the episode key when no day with use is in the lookback
FRESH_DAYS = 1  # the newest reading may be yesterday's (a day's readings arrive the next morning)


class WatchError(ValueError):
    """A refused 見守り setting; ``field`` names the form field the Japanese message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _subject(member: Member) -> str:
    return f"watch:{member.id}"


def _actor(member: Member) -> str:
    return f"member:{member.id}"


def current_watch(member: Member) -> Watch | None:
    """The member's 見守り setting (verified or waiting for its code), or None."""
    return db.session.scalar(select(Watch).where(Watch.member_id == member.id))


def watchable_contracts(member: Member) -> list[tuple[int, str, str]]:
    """(contract id, the member's label, customer number) of the member's linked contracts that
    have daily readings: one statement."""
    has_readings = exists().where(MeterReading.tenant_id == MemberContract.tenant_id,
                                  MeterReading.contract_id == MemberContract.contract_id)
    rows = db.session.execute(
        select(Contract.id, MemberContract.label, Contract.customer_number)
        .join(MemberContract, MemberContract.contract_id == Contract.id)
        .where(MemberContract.member_id == member.id, has_readings)
        .order_by(MemberContract.id)
    )
    return [(contract_id, label or "", number) for contract_id, label, number in rows]


def set_watch(tenant: TenantContext, member: Member, *, contract_id: int, email: str, days: int,
              ttl_minutes: int, remote_addr: str = "") -> bool:
    """Save the member's 見守り setting; return True when a code was mailed to ``email`` (a new
    or changed address: the watch waits for it), False when a verified address was kept.

    Raises :class:`WatchError` for a contract that is not the member's or has no readings, and
    accounts.verification.ResendTooSoon when a code went to the address a moment ago. Flushes.
    """
    if days not in DAYS:
        raise WatchError("days", gettext("日数は1日から7日の間で選択してください。"))
    if contract_id not in {c[0] for c in watchable_contracts(member)}:
        raise WatchError("contract_id", gettext("見守りの対象にする契約を選択してください。"))
    watch = current_watch(member)
    same_address = watch is not None and watch.verified_at is not None and watch.email == email
    if watch is None:
        watch = Watch(tenant_id=tenant.id, member_id=member.id, contract_id=contract_id, email=email, days=days)
        db.session.add(watch)
    if not same_address or watch.contract_id != contract_id:
        watch.alerted_last_use = watch.alerted_at = None  # a new setting starts without an episode
    watch.contract_id, watch.days, watch.email = contract_id, days, email
    if not same_address:
        watch.verified_at = None
        _mail_code(tenant, member, email, ttl_minutes)
    db.session.flush()
    audit.record(_actor(member), "member.watch_set", target=_actor(member), remote_addr=remote_addr,
                 contract_id=contract_id, days=days, verified=same_address)
    return not same_address


def _mail_code(tenant: TenantContext, member: Member, email: str, ttl_minutes: int) -> None:
    code = issue_code(tenant, PURPOSE, email, _subject(member), ttl_minutes)
    queue_mail(tenant, email, "watch_code", member=member, code=code, ttl_minutes=ttl_minutes,
               valid_seconds=ttl_minutes * 60)


def resend_watch_code(tenant: TenantContext, member: Member, ttl_minutes: int) -> str:
    """A new code to the address waiting for verification; returns it (the address). Raises
    WatchError when nothing waits, ResendTooSoon inside the resend interval. Flushes."""
    watch = current_watch(member)
    if watch is None or watch.verified_at is not None:
        raise WatchError("code", gettext("確認を待っている見守りの連絡先はありません。"))
    _mail_code(tenant, member, watch.email, ttl_minutes)
    return watch.email


def confirm_watch(tenant: TenantContext, member: Member, code: str, remote_addr: str = "") -> CheckResult:
    """Check the code mailed to the waiting address; success makes the watch active. Flushes
    (the caller commits, also after a wrong code: tries are counted)."""
    watch = current_watch(member)
    if watch is None or watch.verified_at is not None:
        raise WatchError("code", gettext("確認を待っている見守りの連絡先はありません。"))
    result = check_code(tenant, PURPOSE, watch.email, _subject(member), code)
    if result.ok:
        watch.verified_at = utcnow_naive()
        db.session.flush()
        audit.record(_actor(member), "member.watch_verified", target=_actor(member), remote_addr=remote_addr,
                     contract_id=watch.contract_id, days=watch.days)
    return result


def remove_watch(member: Member, remote_addr: str = "") -> bool:
    """Stop 見守り (the setting is deleted); False when there was none. Flushes."""
    gone = db.session.execute(delete(Watch).where(Watch.member_id == member.id)
                              .execution_options(synchronize_session=False)).rowcount
    if gone:
        audit.record(_actor(member), "member.watch_removed", target=_actor(member), remote_addr=remote_addr)
    return bool(gone)


def record_watch_check(tenant: TenantContext) -> int:
    """Record the 見守り check of ``tenant`` for the outbox worker; return the job id. Flushes."""
    return record_job(tenant, "watch").id


def _days_before(column, days):
    """``column - days`` (a date minus an integer column) in the database's own arithmetic."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column - days
    return func.date(column, literal("-", String) + cast(days, String) + literal(" days", String))


def due_watches(tenant: TenantContext, today: dt.date):
    """The statement selecting (watch id, episode key) of every active watch of ``tenant`` whose
    contract shows no use for the watch's days and whose episode has not been mailed."""
    since = today - dt.timedelta(days=LOOKBACK_DAYS)
    active = (select(Watch.contract_id).where(Watch.tenant_id == tenant.id, Watch.verified_at.is_not(None))
              .distinct())
    stats = (
        select(MeterReading.contract_id.label("contract_id"),
               func.max(MeterReading.reading_date).label("latest"),
               func.max(case((MeterReading.usage_litres > 0, MeterReading.reading_date))).label("last_use"))
        .where(MeterReading.tenant_id == tenant.id, MeterReading.contract_id.in_(active),
               MeterReading.reading_date > since, MeterReading.reading_date <= today)
        .group_by(MeterReading.contract_id)
    ).subquery()
    episode = func.coalesce(stats.c.last_use, literal(NO_USE_YET, Date))
    window_start = _days_before(stats.c.latest, Watch.days)
    quiet_days = (
        select(func.count(MeterReading.id))
        .where(MeterReading.tenant_id == tenant.id, MeterReading.contract_id == Watch.contract_id,
               MeterReading.reading_date > window_start, MeterReading.reading_date <= stats.c.latest,
               MeterReading.usage_litres == 0)
        .scalar_subquery()
    )
    linked = exists().where(MemberContract.tenant_id == tenant.id, MemberContract.member_id == Watch.member_id,
                            MemberContract.contract_id == Watch.contract_id)
    return (
        select(Watch.id, episode)
        .join(stats, stats.c.contract_id == Watch.contract_id)
        .where(Watch.tenant_id == tenant.id, Watch.verified_at.is_not(None), linked,
               stats.c.latest >= today - dt.timedelta(days=FRESH_DAYS),
               or_(stats.c.last_use.is_(None), stats.c.last_use <= window_start),
               quiet_days == Watch.days,
               or_(Watch.alerted_last_use.is_(None), Watch.alerted_last_use != episode))
    )


@expander("watch")
def _expand_watch(tenant: TenantContext, job: MailJob, now: dt.datetime) -> int:
    """The worker's half: claim every due watch of the city, then queue one mail each."""
    today = local_now(tenant.timezone).date()
    due = db.session.execute(due_watches(tenant, today)).all()
    if not due:
        return 0
    # Claim: the episode key written where it is not yet (a second job finds nothing to do).
    by_episode: dict[dt.date, list[int]] = {}
    for watch_id, episode in due:
        by_episode.setdefault(_as_date(episode), []).append(watch_id)
    claimed: list[int] = []
    for episode, ids in by_episode.items():  # one statement per episode day, not per watch
        claimed += db.session.scalars(
            update(Watch)
            .where(Watch.tenant_id == tenant.id, Watch.id.in_(ids),
                   or_(Watch.alerted_last_use.is_(None), Watch.alerted_last_use != episode))
            .values(alerted_last_use=episode, alerted_at=now).returning(Watch.id)
            .execution_options(synchronize_session=False)
        ).all()
    if not claimed:
        return 0
    rows = db.session.execute(
        select(Watch.id, Watch.email, Watch.days, Member.nickname, Member.language, MemberContract.label,
               Contract.customer_number)
        .join(Member, and_(Member.tenant_id == Watch.tenant_id, Member.id == Watch.member_id))
        .join(Contract, and_(Contract.tenant_id == Watch.tenant_id, Contract.id == Watch.contract_id))
        .join(MemberContract, and_(MemberContract.tenant_id == Watch.tenant_id,
                                   MemberContract.member_id == Watch.member_id,
                                   MemberContract.contract_id == Watch.contract_id))
        .where(Watch.tenant_id == tenant.id, Watch.id.in_(claimed))
        .order_by(Watch.id)
    ).all()
    renderers: dict[str, object] = {}
    mails = JobMails(tenant, job, "watch_alert", now)
    for watch_id, email, days, nickname, language, label, number in rows:
        language = valid_language(language) or "ja"
        render = renderers.setdefault(language, mail_renderer(tenant, "watch_alert", language))
        subject, body = render(nickname=nickname, days=days, label=label or "", number_tail=number[-4:])  # type: ignore[operator]
        mails.add(email, subject, body, f"watch{watch_id}")
    written = mails.flush()
    log.info("見守り: %d mail(s) (tenant=%s)", written, tenant.slug)
    return written


def _as_date(value: dt.date | str) -> dt.date:
    # SQLite returns the coalesced date as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
