"""Staff accounts: creation, login checks, passwords and the TOTP second factor.

Writes flush; the caller (a view or a CLI command) commits. Every change is audited
with the acting staff member (``staff:<id>``) or the vendor (``vendor:cli``).
"""
from __future__ import annotations

import secrets
import string

from flask import url_for
from sqlalchemy import select

from waterportal.admin.models import ROLES, StaffMember, StaffUnlockLink
from waterportal.admin.sessions import end_all_staff_sessions
from waterportal.audit import services as audit
from waterportal.core.auth import devices, second_factor, throttling, unlock
from waterportal.core.auth.login import LoginAttempt, check_password
from waterportal.core.auth.passwords import MAX_LENGTH, hash_password, password_problems, verify_password
from waterportal.core.forms import without_controls
from waterportal.core.text import normalise_email
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.mail.services import portal_url, queue_mail
from waterportal.tenancy.context import TenantContext, current_tenant

# The platform's strongest password policy: staff can change every city's settings.
STAFF_SYMBOLS = "!?#$%&()*+,-./:;<=>@[]^_{|}~"
STAFF_PASSWORD_POLICY = {
    "min_length": 12,
    "max_length": MAX_LENGTH,
    "require_upper": True,
    "require_lower": True,
    "require_digit": True,
    "require_symbol": True,
    "allowed_symbols": STAFF_SYMBOLS,
}
UNLOCK = unlock.UnlockKind(StaffUnlockLink, StaffMember, "staff_id")


class StaffError(ValueError):
    """A staff change was refused; ``field`` names the form field, ``message`` is Japanese."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def staff_policy(tenant: TenantContext) -> dict:
    """The staff policy: the strict one, longer still if the city asks more of its citizens."""
    policy = dict(STAFF_PASSWORD_POLICY)
    policy["min_length"] = max(policy["min_length"], tenant.settings["password_policy"]["min_length"])
    return policy


def staff_password_problems(tenant: TenantContext, password: str, email: str = "", name: str = "") -> list[str]:
    """Every rule ``password`` breaks (Japanese), empty when acceptable."""
    return password_problems(password, staff_policy(tenant), email=email, name=name)


def generate_password(tenant: TenantContext) -> str:
    """A random one-time password that satisfies the staff policy."""
    alphabet = string.ascii_letters + string.digits + "!#$%&()*+-=?@_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if not staff_password_problems(tenant, candidate):
            return candidate


def find_staff(email: str) -> StaffMember | None:
    """The staff member of the current city with this email, if any."""
    email = normalise_email(email)
    if "\x00" in email:  # no stored address has one, and PostgreSQL refuses NUL in a query
        return None
    return db.session.scalar(select(StaffMember).where(StaffMember.tenant_id == current_tenant().id, StaffMember.email == email))


def get_staff(staff_id: int) -> StaffMember | None:
    """A staff member of the current city by id (another city's id finds nothing)."""
    return db.session.scalar(select(StaffMember).where(StaffMember.tenant_id == current_tenant().id, StaffMember.id == staff_id))


def list_staff() -> list[StaffMember]:
    """The current city's staff, admins first."""
    return list(db.session.scalars(select(StaffMember).order_by(StaffMember.role, StaffMember.email)))


def create_staff(
    tenant: TenantContext, email: str, role: str, name: str = "", password: str | None = None,
    actor: str = "vendor:cli", remote_addr: str = "",
) -> tuple[StaffMember, str | None]:
    """Create a staff member; return it and the generated one-time password (if none was given).

    A generated password must be changed at first login. Raises StaffError.
    """
    email = normalise_email(email)
    if role not in ROLES:
        raise StaffError("role", "権限を選択してください。")
    if find_staff(email) is not None:
        raise StaffError("email", "このメールアドレスの職員はすでに登録されています。")
    generated = None
    if password is None:
        password = generated = generate_password(tenant)
    problems = staff_password_problems(tenant, password, email, name)
    if problems:
        raise StaffError("password", " ".join(problems))
    staff = StaffMember(
        email=email, name=name.strip(), role=role, password_hash=hash_password(password),
        must_change_password=generated is not None,
    )
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "staff.create", target=staff.actor, remote_addr=remote_addr, email=email, role=role)
    return staff, generated


def authenticate(
    tenant: TenantContext, email: str, password: str, remote_addr: str, device_token: str | None = None
) -> LoginAttempt:
    """Check email and password under the login throttles (core/auth/throttling.py); audit failures.

    An unknown email costs the same argon2 work as a wrong password. A valid device cookie
    (``device_token``, this browser logged in before) counts on its own, so others'
    failures never slow or block it; the failure that starts the account's slowdown mails
    the staff member an unlock link.
    """
    typed = normalise_email(email)
    # The throttle and the audit log name the account without control characters (PostgreSQL
    # refuses a NUL, and a NUL must not open a fresh throttle); find_staff gets what was typed.
    email = without_controls(typed)
    counters = throttling.login_counters(throttling.STAFF, email, remote_addr,
                                         devices.device_key(devices.STAFF, tenant, email, device_token))
    attempt = check_password(tenant, counters, lambda: find_staff(typed), password)
    if attempt.throttled:
        audit.record("anonymous", "staff.login_throttled", target=email, remote_addr=remote_addr,
                     slowed=attempt.slowed)
    elif attempt.account is None:
        actor = attempt.found.actor if attempt.found else "anonymous"
        audit.record(actor, "staff.login_failed", target=email, remote_addr=remote_addr, reason=attempt.reason)
        if attempt.tripped and attempt.found is not None:
            mail_unlock_link(tenant, attempt.found, remote_addr)
    return attempt


def mail_unlock_link(tenant: TenantContext, staff: StaffMember, remote_addr: str) -> None:
    """Mail the staff member a link that makes one browser a known device (core/auth/unlock.py)."""
    if staff.vendor_id is not None:  # a vendor's account has no password and no mailbox
        return
    key = unlock.issue(UNLOCK, staff)
    queue_mail(tenant, staff.email, "staff_login_unlock", staff=staff, minutes=unlock.UNLOCK_SECONDS // 60,
               link=portal_url(tenant, url_for("admin.unlock_login", token=key)))
    audit.record("anonymous", "staff.login_slowed", target=staff.email, remote_addr=remote_addr, unlock_mailed=True)


def unlock_device(tenant: TenantContext, token: str, remote_addr: str) -> str:
    """Use an unlock link up; return the device cookie value that makes this browser a
    known device of its staff member. Raises unlock.LinkExpired / LinkInvalid."""
    staff = unlock.claim(UNLOCK, tenant, token)
    audit.record(staff.actor, "staff.login_unlocked", target=staff.email, remote_addr=remote_addr)
    return devices.issue(devices.STAFF, tenant, staff.email)


def record_login(staff: StaffMember, remote_addr: str) -> None:
    """Stamp and audit a completed login (password and, where needed, the second factor)."""
    staff.last_login_at = utcnow_naive()
    audit.record(staff.actor, "staff.login", target=staff.email, remote_addr=remote_addr)


def change_password(tenant: TenantContext, staff: StaffMember, current: str, new: str, remote_addr: str) -> None:
    """Change a staff member's own password; ends their other sessions. Raises StaffError."""
    if not verify_password(staff.password_hash, current):
        raise StaffError("current_password", "現在のパスワードが正しくありません。")
    if current == new:
        raise StaffError("password", "現在と異なるパスワードを設定してください。")
    problems = staff_password_problems(tenant, new, staff.email, staff.name)
    if problems:
        raise StaffError("password", " ".join(problems))
    staff.password_hash = hash_password(new)
    staff.must_change_password = False
    staff.session_version += 1
    end_all_staff_sessions(staff, "password")
    audit.record(staff.actor, "staff.password_change", target=staff.actor, remote_addr=remote_addr)


def set_disabled(staff: StaffMember, disabled: bool, actor: StaffMember | str, remote_addr: str) -> None:
    """Disable (ending every session) or re-enable a staff member. Nobody disables themselves."""
    actor_name = actor if isinstance(actor, str) else actor.actor
    if not isinstance(actor, str) and actor.id == staff.id:
        raise StaffError("staff", "自分自身を無効にすることはできません。")
    if staff.disabled == disabled:
        return
    staff.disabled = disabled
    if disabled:
        staff.session_version += 1
        end_all_staff_sessions(staff, "disabled")
    audit.record(actor_name, "staff.disable" if disabled else "staff.enable", target=staff.actor,
                 remote_addr=remote_addr, email=staff.email)


# --- TOTP (core/auth/second_factor.py) ---------------------------------------------------

def provisioning_uri(tenant: TenantContext, staff: StaffMember, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports."""
    return second_factor.provisioning_uri(secret, staff.email, f"{tenant.portal_name} 管理画面")


def verify_totp(tenant: TenantContext, staff: StaffMember, code: str, remote_addr: str) -> LoginAttempt:
    """Check a staff member's second-factor code, throttled; audit failures."""
    attempt = second_factor.verify(tenant, throttling.STAFF.second_factor, staff, code)
    if not attempt.ok and not attempt.throttled:
        audit.record(staff.actor, "staff.login_failed", target=staff.email, remote_addr=remote_addr, reason="totp")
    return attempt


def enable_totp(staff: StaffMember, secret: str, code: str, remote_addr: str) -> None:
    """Turn the second factor on once the staff member proves their app shows ``code``."""
    step = second_factor.matching_step(secret, code)
    if step is None:
        raise StaffError("code", "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")
    second_factor.set_secret(staff, secret, step)
    audit.record(staff.actor, "staff.totp_enable", target=staff.actor, remote_addr=remote_addr)


def disable_totp(tenant: TenantContext, staff: StaffMember, actor: StaffMember, remote_addr: str) -> None:
    """Turn the second factor off (own account, or an admin resetting a lost phone)."""
    if staff.totp_secret is None:
        return
    if actor.id == staff.id and tenant.settings["admin"]["require_totp"]:
        raise StaffError("code", "この市町村では2段階認証が必須のため、解除できません。")
    staff.totp_secret = None
    staff.totp_last_step = None
    if actor.id != staff.id:
        staff.session_version += 1
        end_all_staff_sessions(staff, "totp_reset")
    audit.record(actor.actor, "staff.totp_disable", target=staff.actor, remote_addr=remote_addr)
