"""会員サポート: find a member, read their status, and the support actions (the caller commits).

Reads show what a support call needs and never a secret: no password hash, no code, no
secret answer (only whether one is set). Every action is audited as the staff member
(``staff:<id>``, or ``vendor:<id>`` for a vendor's account) with the client address.
The actions reuse the citizens' own services where one exists (profile.services for
the email-change code, accounts.session for ending sessions).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select

from waterportal.accounts import services as account_services
from waterportal.accounts.models import Member, MemberSession
from waterportal.accounts.recovery import services as recovery
from waterportal.accounts.session import end_member_sessions
from waterportal.accounts.verification import (
    HOURLY_SENDS,
    ResendTooSoon,
    resend_message,
)
from waterportal.audit import services as audit
from waterportal.audit.models import AuditEntry
from waterportal.contracts import services as contract_services
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core import throttle
from waterportal.core.auth import throttling
from waterportal.core.text import digits_only, katakana_name, normalise_email
from waterportal.core.throttle import Rule
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.inquiries import services as inquiry_services
from waterportal.mypage.account import services as profile_services
from waterportal.tenancy.context import TenantContext

PAGE_SIZE = 20
SEARCH_KINDS = {
    "customer_number": "お客様番号",
    "email": "メールアドレス",
    "login_id": "ログインID",
    "kana": "お客様氏名カナ",
}


class SupportError(ValueError):
    """A support action was refused; ``message`` is Japanese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- search -----------------------------------------------------------------------------

def search_term(kind: str, raw: str) -> str:
    """The normalised form of what staff typed (the same rules as the citizens' forms)."""
    if kind == "customer_number":
        return digits_only(raw)
    if kind == "email":
        return normalise_email(raw)
    if kind == "login_id":
        return unicodedata.normalize("NFKC", raw or "").strip().lower()
    return katakana_name(raw)


def _matching_ids(tenant: TenantContext, kind: str, term: str) -> Select:
    linked = select(MemberContract.member_id).join(Contract, Contract.id == MemberContract.contract_id)
    if kind == "customer_number":
        digits = tenant.settings["registration"]["customer_number_digits"]
        test = Contract.customer_number == term if len(term) >= digits else Contract.customer_number.startswith(term)
        return linked.where(test)
    if kind == "kana":
        return linked.where(Contract.holder_name_kana.contains(term, autoescape=True))
    if kind == "email":
        return select(Member.id).where(Member.email.contains(term, autoescape=True))
    return select(Member.id).where(func.lower(Member.login_id).contains(term, autoescape=True))


@dataclass
class SearchPage:
    """One page of results: members with their linked contracts, and the total."""

    rows: list[tuple[Member, list[Contract]]]
    total: int
    page: int
    unlinked_contract: Contract | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def search_members(tenant: TenantContext, kind: str, raw: str, page: int = 1) -> SearchPage:
    """Members of ``tenant`` matching ``raw`` as ``kind`` (partial match, except a full
    お客様番号), newest first, :data:`PAGE_SIZE` a page; three queries whatever the page."""
    term = search_term(kind, raw)
    ids = _matching_ids(tenant, kind, term)
    condition = (Member.tenant_id == tenant.id) & Member.id.in_(ids)
    total = db.session.scalar(select(func.count(Member.id)).where(condition)) or 0
    members = db.session.scalars(
        select(Member).where(condition).order_by(Member.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    contracts: dict[int, list[Contract]] = {m.id: [] for m in members}
    if members:
        for member_id, contract in db.session.execute(
            select(MemberContract.member_id, Contract).join(Contract, Contract.id == MemberContract.contract_id)
            .where(MemberContract.member_id.in_(list(contracts))).order_by(MemberContract.id)
        ):
            contracts[member_id].append(contract)
    unlinked = None
    if kind == "customer_number" and total == 0:
        # A support call about a contract nobody registered yet: say so rather than "nothing".
        unlinked = db.session.scalar(select(Contract).where(Contract.tenant_id == tenant.id, Contract.customer_number == term))
    return SearchPage([(m, contracts[m.id]) for m in members], total, page, unlinked)


def get_member(tenant: TenantContext, member_id: int) -> Member | None:
    """A member of ``tenant`` by id (another city's id finds nothing)."""
    return db.session.scalar(select(Member).where(Member.tenant_id == tenant.id, Member.id == member_id))


# --- status -----------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberThrottle:
    """One throttle that concerns the member: how much of the window is used, and the wait."""

    label: str
    rule: Rule
    key: str
    used: int
    limit: int
    retry_after: int

    @property
    def ident(self) -> str:
        """What the 「制限を解除」 form posts back (checked against this list again)."""
        return f"{self.rule.name}:{self.key}"

    @property
    def blocked(self) -> bool:
        return self.retry_after > 0


def login_key(tenant: TenantContext, member: Member) -> str:
    """The key accounts.services.authenticate counts this member's login failures under."""
    return account_services.member_key(tenant, member)


def member_throttles(tenant: TenantContext, member: Member) -> list[MemberThrottle]:
    """Every per-member throttle of the citizen flows, with its current use."""
    entries: list[tuple[str, Rule, str]] = [
        ("ログイン(パスワードの誤り)", throttling.MEMBER.account, login_key(tenant, member)),
        ("パスワード再設定メールの送信", account_services.RESET_ADDRESS, member.email),
        ("秘密の質問の回答", recovery.RECOVER_ANSWER_EMAIL, member.email),
        ("現在のパスワードの確認(会員情報の変更)", profile_services.PASSWORD_CHECKS, str(member.id)),
        ("メールアドレス変更の確認コード送信", profile_services.EMAIL_CHANGES, str(member.id)),
        ("お客様番号の照合(契約の追加)", contract_services.PER_REQUESTER, f"member:{member.id}"),
        ("メールでのお問い合わせ", inquiry_services.PER_RECIPIENT, member.email),
    ]
    pending = profile_services.pending_email_change(member)
    if pending is not None:
        entries.append(("確認コードの送信(変更先アドレス宛)", HOURLY_SENDS, f"{profile_services.CHANGE_EMAIL}:{pending.email}"))
    for _link, contract in profile_services.member_links(tenant, member):
        entries.append((f"お客様番号 {contract.customer_number} の照合", contract_services.PER_NUMBER,
                        contract.customer_number))
    return [
        MemberThrottle(label, rule, key, throttle.used(tenant, rule, key), rule.item().amount,
                       throttle.retry_after(tenant, rule, key))
        for label, rule, key in entries
    ]


def live_session_count(tenant: TenantContext, member: Member, now: dt.datetime | None = None) -> int:
    """Sessions of the member that would still be accepted (not ended, idle or too old)."""
    now = now or utcnow_naive()
    idle = dt.timedelta(minutes=tenant.settings["login"]["idle_timeout_minutes"])
    max_age = dt.timedelta(seconds=current_app.config.get("PERMANENT_SESSION_LIFETIME", 86400))
    return db.session.scalar(select(func.count(MemberSession.id)).where(
        MemberSession.member_id == member.id, MemberSession.ended_at.is_(None),
        MemberSession.last_seen_at > now - idle, MemberSession.created_at > now - max_age,
    )) or 0


def member_history(member: Member, limit: int = 10) -> list[AuditEntry]:
    """The member's latest audited events (logins, changes, support actions)."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.target == f"member:{member.id}")
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    ))


# --- actions ----------------------------------------------------------------------------

def clear_member_throttle(tenant: TenantContext, member: Member, ident: str, actor: str, remote_addr: str = "") -> MemberThrottle:
    """Lift one of :func:`member_throttles` (named by its ``ident``); any other key is refused."""
    found = next((t for t in member_throttles(tenant, member) if t.ident == ident), None)
    if found is None:
        raise SupportError("解除する制限が見つかりません。画面を再読み込みしてください。")
    if found.rule == throttling.MEMBER.account:
        throttling.lift_account(tenant, throttling.MEMBER, found.key)  # and the slowdown it started
    else:
        throttle.clear(tenant, found.rule, found.key)
    audit.record(actor, "member.throttle_cleared", target=f"member:{member.id}", remote_addr=remote_addr,
                 rule=found.rule.name, used=found.used)
    return found


def resend_email_change_code(tenant: TenantContext, member: Member, actor: str, remote_addr: str = "") -> str:
    """Send a new code for the member's open email change (the citizen's own rules apply)."""
    try:
        email = profile_services.resend_email_change(tenant, member)
    except profile_services.ProfileError:
        raise SupportError("確認待ちのメールアドレス変更はありません。") from None
    except ResendTooSoon as exc:
        raise SupportError(resend_message(exc.seconds)) from None
    audit.record(actor, "member.verification_resent", target=f"member:{member.id}", remote_addr=remote_addr,
                 email=email)
    return email


def end_all_sessions(member: Member, actor: str, remote_addr: str = "") -> int:
    """Log the member out everywhere: bump ``session_version`` and end every session row."""
    member.session_version += 1
    ended = end_member_sessions(member, "staff")
    audit.record(actor, "member.sessions_ended", target=f"member:{member.id}", remote_addr=remote_addr,
                 sessions=ended)
    return ended


def unlink_contract(tenant: TenantContext, member: Member, link_id: int, actor: str, remote_addr: str = "") -> Contract:
    """Remove one of the member's contract links (the contract and its bills stay the city's).

    Unlike the member's own ⑨, staff may remove the last link (a contract that moved to
    someone else); the member is then asked to add one at their next visit.
    """
    link = profile_services.get_link(tenant, member, link_id)
    if link is None:
        raise SupportError("この契約の登録は見つかりません。")
    contract = contract_services.get_contract(tenant, link.contract_id)
    db.session.delete(link)
    db.session.flush()
    audit.record(actor, "member.contract_unlinked", target=f"member:{member.id}", remote_addr=remote_addr,
                 customer_number=contract.customer_number if contract else "", contract=link.contract_id)
    return contract
