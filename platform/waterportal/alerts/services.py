"""Area alerts: the console's area list and counts, publish and withdraw, the member's
banner, the mail fan-out and the members' opt-outs per kind.

Matching is set-wise: an alert's areas (町名/丁目 strings from contracts/areas.py) are
compared by equality with ``contracts.address_area`` in one statement per question (the
area list, the counts, a member's banner, the mail's recipients), never a statement per
member or contract. Times are naive UTC; staff type them in the city's time zone. An alert
may have its title and body in English and やさしい日本語 (``area_alert_texts``, issue 13 §10):
members reading or mailed in a language without them get the Japanese with a note
(:func:`alerts_in`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, distinct, exists, func, insert, select

from waterportal.accounts.language import members_by_language
from waterportal.accounts.models import Member
from waterportal.alerts.models import AreaAlert, AreaAlertArea, AreaAlertOptOut, AreaAlertText
from waterportal.audit import services as audit
from waterportal.contracts.areas import area_of, split_area
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.i18n import DEFAULT_LANGUAGE, TRANSLATED_LANGUAGES, format_day
from waterportal.core.time import to_city_time, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.jobs import JobCounter, expander, insert_outbox_rows, job_counters, keep_jobs_while, record_job
from waterportal.mail.models import MailJob
from waterportal.mail.services import mail_languages, render_mail
from waterportal.tenancy.context import TenantContext

# kind -> its name (Japanese in the console; the member's language on their pages and mail).
KINDS: dict[str, object] = {"outage": _l("断水"), "turbid": _l("濁水"), "works": _l("工事"), "other": _l("その他")}
MAIL_KIND = "area_alert"
MAX_AREAS = 500
# The languages an alert may have its own title and body in (Japanese is the alert itself).
VARIANT_LANGUAGES = TRANSLATED_LANGUAGES


# The console shows an alert's mail counter from its job: the retention keeps the job while the alert exists.
keep_jobs_while(MAIL_KIND, AreaAlert)


class AreaAlertError(ValueError):
    """A publish refused; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str = "areas"):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class AreaChoice:
    """One 町名/丁目 found in the city's contract addresses, with how many contracts and members."""

    area: str
    town: str
    chome: int | None
    contracts: int
    members: int


def area_choices(tenant: TenantContext) -> list[AreaChoice]:
    """Every area of the city's contracts, by town then 丁目 (one GROUP BY statement)."""
    rows = db.session.execute(
        select(Contract.address_area, func.count(distinct(Contract.id)), func.count(distinct(MemberContract.member_id)))
        .outerjoin(MemberContract, (MemberContract.tenant_id == Contract.tenant_id)
                   & (MemberContract.contract_id == Contract.id))
        .where(Contract.tenant_id == tenant.id, Contract.address_area.is_not(None))
        .group_by(Contract.address_area)
    ).all()
    choices = [AreaChoice(area, *split_area(area), contracts, members) for area, contracts, members in rows]
    return sorted(choices, key=lambda c: (c.town, c.chome or 0, c.area))


def resolve_areas(choices: list[AreaChoice], selected: list[str], pasted: str) -> tuple[list[str], list[str]]:
    """The areas chosen in the list plus those of a pasted list (one per line), and the
    problems of the pasted lines that match no contract address (「3行目: ...」).

    A pasted line goes through :func:`area_of` (名寄市西4条南7丁目, 広坂一丁目 and 広坂１丁目 are
    read alike); a town without a 丁目 (広坂) stands for every 丁目 of that town."""
    known = {choice.area for choice in choices}
    by_town: dict[str, list[str]] = {}
    for choice in choices:
        by_town.setdefault(choice.town, []).append(choice.area)
    areas = [area for area in selected if area in known]
    problems = []
    for number, line in enumerate((pasted or "").splitlines(), start=1):
        if not line.strip():
            continue
        area = area_of(line)
        town, chome = split_area(area) if area else ("", None)
        found = ([area] if area in known else []) + (by_town.get(town, []) if area and chome is None else [])
        if not found:
            problems.append(f"{number}行目「{line.strip()[:40]}」に該当する契約の住所がありません。")
        areas.extend(found)
    return sorted(set(areas)), problems


def _in_areas(areas: list[str]):
    """Contracts of the current city whose address lies in ``areas``."""
    return Contract.address_area.in_(areas)


def match_counts(tenant: TenantContext, areas: list[str]) -> tuple[int, int]:
    """(contracts, members with a linked contract) in ``areas``: one statement."""
    if not areas:
        return 0, 0
    contracts, members = db.session.execute(
        select(func.count(distinct(Contract.id)), func.count(distinct(MemberContract.member_id)))
        .outerjoin(MemberContract, (MemberContract.tenant_id == Contract.tenant_id)
                   & (MemberContract.contract_id == Contract.id))
        .where(Contract.tenant_id == tenant.id, _in_areas(areas))
    ).one()
    return int(contracts), int(members)


def publish_alert(tenant: TenantContext, actor: str, remote_addr: str = "", *, kind: str, title: str, body: str,
                  starts_at: dt.datetime, ends_at: dt.datetime, areas: list[str],
                  texts: dict[str, tuple[str, str] | None] | None = None) -> AreaAlert:
    """Publish an alert to ``areas`` (flushed; the caller commits) with its ``texts`` in other
    languages ({language: (title, body)}; None or left out: none), audit it and hand its mail
    to the outbox worker (a job). An area list that matches no contract is refused with
    :class:`AreaAlertError` and nothing is written."""
    if kind not in KINDS:
        raise AreaAlertError("種類を選択してください。", "kind")
    if not areas:
        raise AreaAlertError("対象の地区(町名・丁目)を選ぶか、貼り付けてください。")
    if len(areas) > MAX_AREAS:
        raise AreaAlertError(f"対象の地区は{MAX_AREAS}件までです。")
    contracts, members = match_counts(tenant, areas)
    if not contracts:
        raise AreaAlertError("選んだ地区に該当する契約の住所がありません。公開していません。")
    written = {code: value for code, value in (texts or {}).items() if value}
    if set(written) - set(VARIANT_LANGUAGES):  # checked before anything is written
        raise ValueError(f"no alert texts in {sorted(set(written) - set(VARIANT_LANGUAGES))}")
    alert = AreaAlert(kind=kind, title=title, body=body, starts_at=starts_at, ends_at=ends_at,
                      matched_contracts=contracts, matched_members=members, created_by=actor, created_at=utcnow_naive())
    db.session.add(alert)
    db.session.flush()
    db.session.execute(insert(AreaAlertArea), [{"tenant_id": tenant.id, "alert_id": alert.id, "area": area}
                                               for area in areas])
    db.session.add_all([AreaAlertText(alert_id=alert.id, language=code, title=value[0], body=value[1])
                        for code, value in sorted(written.items())])
    audit.record(actor, "area_alert.publish", target=f"area_alert:{alert.id}", remote_addr=remote_addr,
                 kind=kind, title=title, areas=areas[:50], area_count=len(areas),
                 contracts=contracts, members=members, **({"languages": sorted(written)} if written else {}))
    # Members who join later were not there when the alert went out (the banner still finds them).
    upto = db.session.scalar(select(func.max(Member.id)).where(Member.tenant_id == tenant.id)) or 0
    record_job(tenant, MAIL_KIND, alert.id, recipients_upto=upto)
    return alert


def withdraw_alert(alert: AreaAlert, actor: str, remote_addr: str = "") -> None:
    """End an alert now (its banner goes; mail not yet queued is not sent) and audit it."""
    alert.withdrawn_at, alert.withdrawn_by = utcnow_naive(), actor
    db.session.flush()
    audit.record(actor, "area_alert.withdraw", target=f"area_alert:{alert.id}", remote_addr=remote_addr,
                 title=alert.title)


@dataclass(frozen=True)
class ShownAlert:
    """An alert as a member reads it in one language: its own title and body there, else the
    Japanese ones with ``untranslated`` set (the page and the mail say so)."""

    id: int
    kind: str
    title: str
    body: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    untranslated: bool = False


def alert_texts(alert_ids: list[int]) -> dict[int, dict[str, AreaAlertText]]:
    """alert id -> {language: its title and body there}, for alerts of the current city (one
    statement, none without ids)."""
    found: dict[int, dict[str, AreaAlertText]] = {}
    if alert_ids:
        for text in db.session.scalars(select(AreaAlertText).where(AreaAlertText.alert_id.in_(alert_ids))):
            found.setdefault(text.alert_id, {})[text.language] = text
    return found


def alerts_in(alerts: list[AreaAlert], language: str,
              texts: dict[int, dict[str, AreaAlertText]] | None = None) -> list[ShownAlert]:
    """``alerts`` in ``language`` (their texts read in one statement unless given; none for
    Japanese or no alerts)."""
    if texts is None:
        texts = alert_texts([a.id for a in alerts]) if language != DEFAULT_LANGUAGE else {}
    shown = []
    for alert in alerts:
        base = ShownAlert(alert.id, alert.kind, alert.title, alert.body or "", alert.starts_at, alert.ends_at)
        own = texts.get(alert.id, {}).get(language)
        if language == DEFAULT_LANGUAGE:
            shown.append(base)
        elif own is not None:
            shown.append(replace(base, title=own.title, body=own.body))
        else:
            shown.append(replace(base, untranslated=True))
    return shown


def period_text(alert: AreaAlert | ShownAlert, tz_name: str) -> str:
    """「2026年12月24日(木) 09:00〜2026年12月25日(金) 17:00」 in the city's time, in the page's
    or mail's language (the day as core.i18n writes it)."""
    start, end = to_city_time(alert.starts_at, tz_name), to_city_time(alert.ends_at, tz_name)
    return f"{format_day(start.date())} {start:%H:%M}〜{format_day(end.date())} {end:%H:%M}"


def get_alert(tenant: TenantContext, alert_id: int) -> AreaAlert | None:
    """An alert of ``tenant`` by id (another city's id finds nothing)."""
    return db.session.scalar(select(AreaAlert).where(AreaAlert.tenant_id == tenant.id, AreaAlert.id == alert_id))


def all_alerts() -> list[AreaAlert]:
    """Every alert of the current city, newest first (console list)."""
    return list(db.session.scalars(select(AreaAlert).order_by(AreaAlert.created_at.desc(), AreaAlert.id.desc())))


def alert_areas(alert: AreaAlert) -> list[str]:
    """The areas of ``alert``, sorted."""
    return sorted(db.session.scalars(select(AreaAlertArea.area).where(AreaAlertArea.alert_id == alert.id)))


def status(alert: AreaAlert, now: dt.datetime) -> str:
    """「予約」, 「掲載中」, 「掲載終了」 or 「取り下げ」, for the console."""
    if alert.withdrawn_at is not None:
        return "取り下げ"
    if alert.starts_at > now:
        return "予約"
    return "掲載終了" if alert.ends_at <= now else "掲載中"


def mail_counters(alerts: list[AreaAlert]) -> dict[int, JobCounter]:
    """alert id -> its mail job's counter (queued, sent, waiting, failed)."""
    return job_counters(MAIL_KIND, [alert.id for alert in alerts])


def _member_in_area(member_id, alert_id):
    """EXISTS: a contract linked to ``member_id`` lies in an area of ``alert_id``."""
    return exists().where(
        MemberContract.tenant_id == Contract.tenant_id, MemberContract.contract_id == Contract.id,
        MemberContract.member_id == member_id,
        AreaAlertArea.tenant_id == Contract.tenant_id, AreaAlertArea.area == Contract.address_area,
        AreaAlertArea.alert_id == alert_id,
    )


def member_alerts(tenant: TenantContext, member_id: int, now: dt.datetime) -> list[AreaAlert]:
    """The alerts shown to a member now: in period, not withdrawn, with an area one of the
    member's contracts lies in; newest first. One statement."""
    return list(db.session.scalars(
        select(AreaAlert)
        .where(AreaAlert.tenant_id == tenant.id, AreaAlert.withdrawn_at.is_(None),
               AreaAlert.starts_at <= now, AreaAlert.ends_at > now, _member_in_area(member_id, AreaAlert.id))
        .order_by(AreaAlert.starts_at.desc(), AreaAlert.id.desc())
    ))


def member_alert(tenant: TenantContext, member_id: int, alert_id: int, now: dt.datetime) -> AreaAlert | None:
    """One alert as :func:`member_alerts` shows it, or None (not the member's, not now)."""
    return next((alert for alert in member_alerts(tenant, member_id, now) if alert.id == alert_id), None)


@expander(MAIL_KIND)
def _expand_alert_mail(tenant: TenantContext, job: MailJob, now: dt.datetime) -> int:
    """The worker's half: one mail per member in the area who has not opted out of the kind.

    The mail has no per-member part, so it is rendered once per language and written with
    one ``INSERT ... SELECT`` per language; ``EXISTS`` makes a member with two contracts in
    the area one recipient. A withdrawn alert is not mailed."""
    alert = get_alert(tenant, job.ref_id)
    if alert is None or alert.withdrawn_at is not None or alert.ends_at <= now:
        return 0
    wanted = (Member.tenant_id == tenant.id, Member.id <= job.recipients_upto, _member_in_area(Member.id, alert.id),
              ~exists().where(AreaAlertOptOut.tenant_id == Member.tenant_id, AreaAlertOptOut.member_id == Member.id,
                              AreaAlertOptOut.kind == alert.kind))
    # A member whose language the city no longer offers is mailed in Japanese.
    texts = alert_texts([alert.id])
    queued = 0
    for code, speaks in members_by_language(mail_languages(tenant)):
        [shown] = alerts_in([alert], code, texts)
        subject, body = render_mail(tenant, "area_alert", code, alert=shown, kind_name=KINDS[alert.kind],
                                    period=lambda: period_text(alert, tenant.timezone))
        queued = insert_outbox_rows(tenant, job, "area_alert", subject, body,
                                    select(Member.id, Member.email).where(*wanted, speaks), now)
    audit.record("system", "area_alert.mail", target=f"area_alert:{alert.id}", recipients=queued)
    return queued


def mail_kinds_off(member_id: int) -> set[str]:
    """The kinds a member wants no mail for."""
    return set(db.session.scalars(select(AreaAlertOptOut.kind).where(AreaAlertOptOut.member_id == member_id)))


def set_mail_kinds(tenant: TenantContext, member: Member, wanted: set[str], actor: str, remote_addr: str = "") -> bool:
    """Store which kinds of alert mail ``member`` wants (the others are opted out); audit a
    change and return whether anything changed."""
    off = {kind for kind in KINDS if kind not in wanted}
    before = mail_kinds_off(member.id)
    if off == before:
        return False
    db.session.execute(delete(AreaAlertOptOut).where(AreaAlertOptOut.tenant_id == tenant.id,
                                                     AreaAlertOptOut.member_id == member.id))
    if off:
        db.session.execute(insert(AreaAlertOptOut), [{"tenant_id": tenant.id, "member_id": member.id, "kind": kind}
                                                     for kind in sorted(off)])
    audit.record(actor, "member.alert_mail_changed", target=actor, remote_addr=remote_addr, off=sorted(off))
    return True
