"""Citizen registration: the writes behind the four steps, and :func:`register_member`.

Every function flushes and leaves the commit to the caller (the view, or a CLI).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from waterportal.accounts.models import Member
from waterportal.accounts.registration.drafts import touch
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.accounts.secret import hash_answer
from waterportal.accounts.verification import (
    CheckResult,
    ResendTooSoon,
    check_code,
    issue_code,
)
from waterportal.audit import services as audit
from waterportal.contracts.services import (
    MatchOutcome,
    get_contract,
    link_contract,
    match_contract,
)
from waterportal.core import throttle
from waterportal.core.auth.passwords import hash_password
from waterportal.core.i18n import current_language, valid_language
from waterportal.core.text import normalise_email
from waterportal.core.time import (
    add_business_days,
    closure_days,
    local_now,
    utcnow_naive,
)
from waterportal.extensions import db
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import TenantContext

PURPOSE = "register"
# Codes a single client address may have mailed per hour, whatever the addresses: the
# per-address limits in accounts.verification do not stop one client mailing many people.
SENDS_PER_CLIENT = throttle.Rule("registration-send-client", "20 per hour")
WEEKDAYS = "月火水木金土日"


class RegistrationRefused(Exception):
    """The final step cannot complete; ``message`` is Japanese and ``field`` names the culprit."""

    def __init__(self, message: str, field: str = ""):
        self.message = message
        self.field = field
        super().__init__(message)


def email_registered(tenant: TenantContext, email: str) -> bool:
    """Whether a member of ``tenant`` already uses ``email`` (normalised)."""
    return db_exists(select(Member.id).where(Member.tenant_id == tenant.id, Member.email == normalise_email(email)))


def login_id_taken(tenant: TenantContext, login_id: str) -> bool:
    """Whether ``login_id`` is in use in ``tenant``, ignoring case."""
    return db_exists(
        select(Member.id).where(Member.tenant_id == tenant.id, func.lower(Member.login_id) == login_id.lower())
    )


def db_exists(query) -> bool:
    """Whether ``query`` finds at least one row."""
    return db.session.scalar(query.limit(1)) is not None


def format_date_ja(day: dt.date) -> str:
    """``2026年12月24日(木)``."""
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def data_visible_date(tenant: TenantContext, today: dt.date | None = None) -> dt.date:
    """The first day a new member sees usage and bills: N business days after today (city time)."""
    today = today or local_now(tenant.timezone).date()
    days = tenant.settings["registration"]["data_visible_after_business_days"]
    closure = closure_days(list(tenant.settings["calendar"]["closure_days"]))
    return add_business_days(today, days, closure)


def send_registration_code(tenant: TenantContext, draft: RegistrationDraft, email: str, remote_addr: str = "") -> None:
    """Step 1/4: mail a code to ``email`` for this draft.

    For an address already registered in this city a code is issued all the same (and
    never sent), and the address gets a notice with the login link instead: the screen,
    the throttles and the code step behave identically, so the page reveals nothing.
    Raises :class:`~waterportal.accounts.verification.ResendTooSoon` inside the address's
    resend interval or hourly cap, or past :data:`SENDS_PER_CLIENT` for ``remote_addr``.
    """
    email = normalise_email(email)
    ttl = tenant.settings["registration"]["code_ttl_minutes"]
    if remote_addr and not throttle.allowed(tenant, SENDS_PER_CLIENT, remote_addr):
        raise ResendTooSoon(throttle.retry_after(tenant, SENDS_PER_CLIENT, remote_addr))
    code = issue_code(tenant, PURPOSE, email, draft.subject, ttl)
    if remote_addr:
        throttle.hit(tenant, SENDS_PER_CLIENT, remote_addr)
    if draft.email != email:
        draft.email = email
        draft.email_verified_at = None
    touch(draft)
    if email_registered(tenant, email):
        # Both mails die with the code, so the outbox treats both branches alike.
        queue_mail(tenant, email, "already_registered", email=email, valid_seconds=ttl * 60)
    else:
        queue_mail(tenant, email, "verification_code", code=code, ttl_minutes=ttl, purpose=PURPOSE,
                   valid_seconds=ttl * 60)


def verify_registration_code(tenant: TenantContext, draft: RegistrationDraft, code: str) -> CheckResult:
    """Step 1/4: check the typed code; on success the draft's email counts as verified."""
    result = check_code(tenant, PURPOSE, draft.email, draft.subject, code)
    if result.ok:
        draft.email_verified_at = utcnow_naive()
        touch(draft)
    return result


def save_details(
    tenant: TenantContext,
    draft: RegistrationDraft,
    details: dict[str, Any],
    password: str = "",
    secret_answer: str = "",
    remote_addr: str = "",
) -> MatchOutcome:
    """Step 2/4: keep what was typed, hash the password (and answer), match the contract.

    An empty ``password``/``secret_answer`` keeps the hash from an earlier pass (訂正).
    When matching is throttled nothing is stored and the outcome says how long to wait.
    """
    outcome = match_contract(
        tenant, details["customer_number"], details["phone"], details["holder_kana"],
        requester=draft.subject, remote_addr=remote_addr,
    )
    if outcome.throttled:
        return outcome
    draft.details = dict(details)
    if password:
        draft.password_hash = hash_password(password)
    if secret_answer:
        draft.secret_answer_hash = hash_answer(secret_answer)
    draft.contract_id = outcome.contract_id
    draft.match_reasons = list(outcome.reasons)
    touch(draft)
    return outcome


def register_member(
    tenant: TenantContext,
    *,
    email: str,
    nickname: str,
    password_hash: str | None = None,
    password: str | None = None,
    contract_id: int,
    relationship: str,
    payment_method: str,
    login_id: str | None = None,
    secret_question: str | None = None,
    secret_answer_hash: str | None = None,
    remote_addr: str = "",
    welcome: bool = True,
    language: str | None = None,
) -> Member:
    """Create a member linked to a contract, queue the welcome mail and audit it.

    Give ``password_hash`` (made at step 2) or ``password``. The member, the link, the
    outbox row and the audit entry are flushed together; the caller's commit makes them
    one transaction. ``data_visible_from`` is set from the city's business-day rule.
    ``welcome=False`` (demo data, staff imports) skips the welcome mail. ``language`` (default:
    the request's, core/i18n.py) is stored on the member: their pages and mail follow it.
    """
    contract = get_contract(tenant, contract_id)
    if contract is None:
        raise RegistrationRefused(_l("該当する契約が見つかりませんでした。入力内容をご確認ください。"), "customer_number")
    email = normalise_email(email)
    if email_registered(tenant, email):
        raise RegistrationRefused(_l("このメールアドレスは既に登録されています。ログイン画面からログインしてください。"), "email")
    if login_id and login_id_taken(tenant, login_id):
        raise RegistrationRefused(_l("このログインIDは既に使われています。別のログインIDを入力してください。"), "login_id")
    if password_hash is None:
        if not password:
            raise ValueError("register_member needs password_hash or password")
        password_hash = hash_password(password)
    visible_from = data_visible_date(tenant)
    member = Member(
        tenant_id=tenant.id, email=email, login_id=login_id or None, nickname=nickname,
        password_hash=password_hash, secret_question=secret_question, secret_answer_hash=secret_answer_hash,
        relationship_to_holder=relationship, payment_method=payment_method, data_visible_from=visible_from,
        language=valid_language(language) or current_language(),
    )
    db.session.add(member)
    db.session.flush()
    link_contract(tenant, member.id, contract.id)
    if welcome:
        queue_mail(
            tenant, email, "welcome", member=member, visible_from=visible_from,
            login_id=member.login_id, customer_number=contract.customer_number,
        )
    audit.record(
        f"member:{member.id}", "member.register", target=f"contract:{contract.id}", remote_addr=remote_addr,
        login_mode=tenant.login_mode, relationship=relationship, payment_method=payment_method,
    )
    db.session.flush()
    return member


def complete_registration(tenant: TenantContext, draft: RegistrationDraft, remote_addr: str = "") -> Member:
    """Step 3/4 「登録」: turn a verified, matched draft into a member and drop the draft."""
    if not (draft.verified and draft.details_done and draft.contract_id):
        raise RegistrationRefused(_l("入力内容をご確認ください。"), "")
    details = draft.details
    member = register_member(
        tenant,
        email=draft.email,
        nickname=details["nickname"],
        password_hash=draft.password_hash,
        contract_id=draft.contract_id,
        relationship=details["relationship"],
        payment_method=details["payment_method"],
        login_id=details.get("login_id") or None,
        secret_question=details.get("secret_question") or None,
        secret_answer_hash=draft.secret_answer_hash,
        remote_addr=remote_addr,
    )
    db.session.delete(draft)
    db.session.flush()
    return member
