"""The writes behind ⑦ 会員登録情報の照会・変更 and ⑧ 退会のお手続き (the caller commits).

Every change is audited as ``member:<id>``. Changes that could hand the account to
someone holding a stolen session (email, password, secret question, withdrawal) need
the current password; wrong passwords are throttled per member, so a stolen session
cannot be used to guess it.

The ⑨ 各種お手続き writes (contract links) live in :mod:`waterportal.mypage.account.links` and
are re-exported here, so views, the staff console and CLI all import from one place.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from waterportal.accounts import services as account_services
from waterportal.accounts.models import Member, MemberSession, VerificationCode
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.accounts.registration.services import email_registered
from waterportal.accounts.secret import hash_answer
from waterportal.accounts.verification import CheckResult, CodeStatus, ResendTooSoon, check_code, issue_code
from waterportal.audit import services as audit
from waterportal.contracts.models import MemberContract
from waterportal.core import throttle
from waterportal.core.auth.passwords import verify_password
from waterportal.core.text import normalise_email, squash_spaces
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.inquiries.services import detach_member
from waterportal.mail.services import portal_url, queue_mail
from waterportal.mypage.account.errors import ProfileError
from waterportal.mypage.account.links import (  # noqa: F401 - re-exported
    MAX_LINKS,
    LinkOutcome,
    add_contract_link,
    get_link,
    label_contract,
    member_links,
    remove_contract_link,
)
from waterportal.procedures import services as procedures
from waterportal.tenancy.context import TenantContext

CHANGE_EMAIL = "change_email"
PASSWORD_CHECKS = throttle.Rule("profile-password", "5 per 15 minutes")
# Addresses one member may have codes mailed to per hour (the per-address limits in
# accounts.verification do not stop one account mailing many strangers).
EMAIL_CHANGES = throttle.Rule("email-change-member", "10 per hour")

# Messages in the language of the page that shows them (lazy gettext strings).
WRONG_PASSWORD = _l("現在のパスワードが正しくありません。")
PASSWORD_THROTTLED = _l("パスワードの誤りが続いたため、しばらくの間お手続きできません。%(minutes)s分ほど時間をおいてから、もう一度お試しください。")
EMAIL_TAKEN = _l("このメールアドレスは既に登録されています。別のメールアドレスを入力してください。")


def _actor(member: Member) -> str:
    return f"member:{member.id}"


def code_subject(member: Member) -> str:
    """The verification-code subject of a member's email change."""
    return f"member:{member.id}"


def mask_email(email: str) -> str:
    """``taro@example.jp`` -> ``t***@example.jp`` (for mail to the old address)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def check_password(tenant: TenantContext, member: Member, password: str, field: str = "password") -> None:
    """Raise :class:`ProfileError` on ``field`` unless ``password`` is the member's (throttled)."""
    key = str(member.id)
    if not throttle.allowed(tenant, PASSWORD_CHECKS, key):
        minutes = max(1, -(-throttle.retry_after(tenant, PASSWORD_CHECKS, key) // 60))
        raise ProfileError(str(PASSWORD_THROTTLED) % {"minutes": minutes}, field, throttled=True)
    if not verify_password(member.password_hash, password or ""):
        throttle.hit(tenant, PASSWORD_CHECKS, key)
        raise ProfileError(WRONG_PASSWORD, field)


def change_nickname(member: Member, nickname: str, remote_addr: str = "") -> None:
    """Store a new お名前(ニックネーム)."""
    value = squash_spaces(nickname)
    if not value:
        raise ProfileError(_l("お名前を入力してください。"), "nickname")
    if len(value) > 50:
        raise ProfileError(_l("お名前は50文字以内で入力してください。"), "nickname")
    member.nickname = value
    audit.record(_actor(member), "member.nickname_changed", target=_actor(member), remote_addr=remote_addr)


# --- email change: a code to the new address, a notice to the old one -------------------

def request_email_change(
    tenant: TenantContext, member: Member, new_email: str, password: str, remote_addr: str = ""
) -> str:
    """Mail a code to ``new_email`` (after the current password); return it normalised.

    An address another member of the city already uses gets a notice instead of a code,
    after the same work and throttles, so the page does not tell whether it is registered.
    Raises :class:`ProfileError` (wrong password, same address) or
    :class:`~waterportal.accounts.verification.ResendTooSoon`.
    """
    check_password(tenant, member, password)
    email = normalise_email(new_email)
    if email == member.email:
        raise ProfileError(_l("現在ご登録のメールアドレスと同じです。新しいメールアドレスを入力してください。"), "email")
    _send_change_code(tenant, member, email)
    audit.record(_actor(member), "member.email_change_requested", target=_actor(member), remote_addr=remote_addr)
    return email


def resend_email_change(tenant: TenantContext, member: Member) -> str:
    """A new code to the address of the member's open email change (the old code dies).

    Raises :class:`ProfileError` when no change is open, or ``ResendTooSoon``.
    """
    pending = pending_email_change(member)
    if pending is None:
        raise ProfileError(_l("メールアドレスの変更手続きが見つかりません。もう一度最初からお手続きください。"))
    _send_change_code(tenant, member, pending.email)
    return pending.email


def _send_change_code(tenant: TenantContext, member: Member, email: str) -> None:
    key = str(member.id)
    if not throttle.allowed(tenant, EMAIL_CHANGES, key):
        raise ResendTooSoon(throttle.retry_after(tenant, EMAIL_CHANGES, key))
    ttl = tenant.settings["registration"]["code_ttl_minutes"]
    code = issue_code(tenant, CHANGE_EMAIL, email, code_subject(member), ttl)
    throttle.hit(tenant, EMAIL_CHANGES, key)
    # Only the newest request of this member stays open.
    db.session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.purpose == CHANGE_EMAIL, VerificationCode.subject == code_subject(member),
            VerificationCode.email != email, VerificationCode.used_at.is_(None), VerificationCode.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow_naive())
        .execution_options(synchronize_session=False)
    )
    if email_registered(tenant, email):
        # Both mails die with the code, so the outbox treats both branches alike.
        queue_mail(tenant, email, "email_change_taken", email=email, valid_seconds=ttl * 60)
    else:
        queue_mail(tenant, email, "email_change_code", member=member, code=code, ttl_minutes=ttl,
                   valid_seconds=ttl * 60)


def pending_email_change(member: Member) -> VerificationCode | None:
    """The member's newest unused email-change code (expired or not), if any."""
    row = db.session.scalar(
        select(VerificationCode)
        .where(VerificationCode.purpose == CHANGE_EMAIL, VerificationCode.subject == code_subject(member))
        .order_by(VerificationCode.id.desc())
        .limit(1)
    )
    return row if row is not None and row.used_at is None else None


def cancel_email_change(member: Member) -> None:
    """Drop the member's open email-change codes."""
    db.session.execute(
        delete(VerificationCode)
        .where(VerificationCode.purpose == CHANGE_EMAIL, VerificationCode.subject == code_subject(member))
        .execution_options(synchronize_session=False)
    )


def confirm_email_change(tenant: TenantContext, member: Member, code: str, remote_addr: str = "") -> CheckResult:
    """Check the code sent to the new address; on success switch to it and tell the old one.

    Raises :class:`ProfileError` when the address was registered by someone else meanwhile.
    Flushes also on failure (counted tries must persist: the caller commits either way).
    """
    pending = pending_email_change(member)
    if pending is None:
        return CheckResult(CodeStatus.MISSING)
    new_email = pending.email
    result = check_code(tenant, CHANGE_EMAIL, new_email, code_subject(member), code)
    if not result.ok:
        return result
    if email_registered(tenant, new_email):
        raise ProfileError(EMAIL_TAKEN, "email")
    old_email = member.email
    member.email = new_email
    db.session.flush()
    queue_mail(tenant, old_email, "email_changed_notice", member=member, new_email=mask_email(new_email),
               changed_at=local_now(tenant.timezone))
    audit.record(_actor(member), "member.email_changed", target=_actor(member), remote_addr=remote_addr,
                 old_email=old_email, new_email=new_email)
    return result


# --- password, notifications, secret question -------------------------------------------

def change_password(
    tenant: TenantContext, member: Member, current: str, new: str, *, keep_key: str | None, remote_addr: str = ""
) -> int:
    """Check the current password and the city's policy, store the new one, end every OTHER
    session (``keep_key`` stays) and mail a notice. Returns how many sessions ended.

    Raises :class:`ProfileError` on ``current_password`` or ``password`` (all policy
    messages in ``messages``).
    """
    check_password(tenant, member, current, field="current_password")
    problems = account_services.password_errors(tenant, member, new)
    if problems:
        raise ProfileError(problems, "password")
    if verify_password(member.password_hash, new):
        raise ProfileError(_l("現在のパスワードとは異なるパスワードを入力してください。"), "password")
    return account_services.set_password(
        tenant, member, new, actor=_actor(member), keep_key=keep_key, remote_addr=remote_addr
    )


def update_notifications(member: Member, *, bills: bool, notices: bool, leak: bool | None = None,
                         remote_addr: str = "") -> None:
    """お知らせメールの受取設定: bill-ready mail, notice mail and leak mail (None: unchanged)."""
    member.notify_bills, member.notify_notices = bool(bills), bool(notices)
    if leak is not None:
        member.notify_leak = bool(leak)
    audit.record(_actor(member), "member.notifications_changed", target=_actor(member), remote_addr=remote_addr,
                 notify_bills=member.notify_bills, notify_notices=member.notify_notices,
                 notify_leak=member.notify_leak)


def change_secret_question(
    tenant: TenantContext, member: Member, password: str, question: str, answer: str, remote_addr: str = ""
) -> None:
    """New 秘密の質問 and answer (login-ID cities), after the current password."""
    if tenant.login_mode != "login_id":
        raise ValueError("secret questions exist in login-ID cities only")
    if question not in tenant.settings["registration"]["secret_questions"]:
        raise ProfileError(_l("秘密の質問を選択してください。"), "secret_question")
    if not squash_spaces(answer):
        raise ProfileError(_l("秘密の質問の答えを入力してください。"), "secret_answer")
    check_password(tenant, member, password)
    member.secret_question = question
    member.secret_answer_hash = hash_answer(answer)
    audit.record(_actor(member), "member.secret_question_changed", target=_actor(member), remote_addr=remote_addr)


# --- ⑧ 退会 -----------------------------------------------------------------------------

def withdraw_member(tenant: TenantContext, member: Member, password: str, remote_addr: str = "") -> str:
    """Delete the member with its links, sessions, pending codes and registration drafts.

    The city's contracts, bills, the inquiries and the procedures the member sent stay
    (they lose their member link). A confirmation goes to the registered address through the outbox.
    All of it is flushed together: the caller's commit makes it one transaction.
    Returns the address the confirmation went to.
    """
    check_password(tenant, member, password)
    member_id, email, nickname, login_id = member.id, member.email, member.nickname, member.login_id
    links = db.session.execute(
        delete(MemberContract).where(MemberContract.member_id == member_id).execution_options(synchronize_session=False)
    ).rowcount or 0
    db.session.execute(
        delete(MemberSession).where(MemberSession.member_id == member_id).execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(VerificationCode)
        .where(VerificationCode.subject == code_subject(member))
        .execution_options(synchronize_session=False)
    )
    # A registration someone began with this address would otherwise finish against a
    # member who no longer exists; starting again is cheap.
    db.session.execute(
        delete(RegistrationDraft).where(RegistrationDraft.email == email).execution_options(synchronize_session=False)
    )
    detach_member(tenant, member_id)
    procedures.detach_member(tenant, member_id)  # the city keeps the requests; mail goes to the address filed
    db.session.delete(member)
    db.session.flush()
    queue_mail(tenant, email, "withdrawn", nickname=nickname, login_id=login_id,
               withdrawn_at=local_now(tenant.timezone), register_url=portal_url(tenant, "/register/"))
    audit.record(f"member:{member_id}", "member.withdrawn", target=f"member:{member_id}", remote_addr=remote_addr,
                 links_removed=links)
    return email
