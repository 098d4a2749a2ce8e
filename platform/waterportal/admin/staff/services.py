"""Staff accounts: creation, login checks, passwords and the TOTP second factor.

Writes flush; the caller (a view or a CLI command) commits. Every change is audited
with the acting staff member (``staff:<id>``) or the vendor (``vendor:cli``).
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

import pyotp
from sqlalchemy import select

from waterportal.accounts.passwords import hash_password, needs_rehash, verify_password
from waterportal.accounts.policy import password_problems
from waterportal.admin.models import ROLES, StaffMember
from waterportal.admin.sessions import end_all_staff_sessions
from waterportal.core import audit, throttle
from waterportal.core.forms import without_controls
from waterportal.core.text import normalise_email
from waterportal.core.throttle import Rule
from waterportal.core.time import utcnow, utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

LOGIN_ACCOUNT = Rule("staff-login-account", "5 per 15 minutes")
LOGIN_IP = Rule("staff-login-ip", "20 per 15 minutes")
TOTP_TRIES = Rule("staff-totp", "5 per 15 minutes")

# The platform's strongest password policy: staff can change every city's settings.
STAFF_SYMBOLS = "!?#$%&()*+,-./:;<=>@[]^_{|}~"
STAFF_PASSWORD_POLICY = {
    "min_length": 12,
    "max_length": 128,
    "require_upper": True,
    "require_lower": True,
    "require_digit": True,
    "require_symbol": True,
    "allowed_symbols": STAFF_SYMBOLS,
}


class StaffError(ValueError):
    """A staff change was refused; ``field`` names the form field, ``message`` is Japanese."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class StaffLogin:
    """The outcome of :func:`authenticate`."""

    staff: StaffMember | None = None
    throttled: bool = False
    retry_after: int = 0


def staff_policy(tenant: TenantContext) -> dict:
    """The staff policy: the strict one, longer still if the city asks more of its citizens."""
    policy = dict(STAFF_PASSWORD_POLICY)
    policy["min_length"] = max(policy["min_length"], tenant.settings["password_policy"]["min_length"])
    return policy


def staff_password_problems(tenant: TenantContext, password: str, email: str = "", name: str = "") -> list[str]:
    """Every rule ``password`` breaks (Japanese), empty when acceptable."""
    local = email.split("@")[0] if email else ""
    return password_problems(staff_policy(tenant), password, (email, local, name.replace(" ", "")))


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
    return db.session.scalar(select(StaffMember).where(StaffMember.email == email))


def get_staff(staff_id: int) -> StaffMember | None:
    """A staff member of the current city by id (another city's id finds nothing)."""
    return db.session.scalar(select(StaffMember).where(StaffMember.id == staff_id))


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


def authenticate(tenant: TenantContext, email: str, password: str, remote_addr: str) -> StaffLogin:
    """Check email and password, throttled per account and per address; audit failures.

    An unknown email costs the same argon2 work as a wrong password.
    """
    typed = normalise_email(email)
    # The throttle and the audit log name the account without control characters (PostgreSQL
    # refuses a NUL, and a NUL must not open a fresh throttle); find_staff gets what was typed.
    email = without_controls(typed)
    keys = ((LOGIN_ACCOUNT, email), (LOGIN_IP, remote_addr or "-"))
    for rule, key in keys:
        if not throttle.allowed(tenant, rule, key):
            wait = max(throttle.retry_after(tenant, r, k) for r, k in keys)
            audit.record("anonymous", "staff.login_throttled", target=email, remote_addr=remote_addr)
            return StaffLogin(throttled=True, retry_after=wait)
    staff = find_staff(typed)
    ok = verify_password(staff.password_hash if staff else None, password)
    if not ok or staff is None or staff.disabled:
        for rule, key in keys:
            throttle.hit(tenant, rule, key)
        actor = staff.actor if staff else "anonymous"
        reason = "disabled" if ok and staff is not None else "password"
        audit.record(actor, "staff.login_failed", target=email, remote_addr=remote_addr, reason=reason)
        return StaffLogin()
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    throttle.clear(tenant, LOGIN_ACCOUNT, email)
    return StaffLogin(staff=staff)


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


# --- TOTP (RFC 6238, 30 s steps, 6 digits) ------------------------------------------------

def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(tenant: TenantContext, staff: StaffMember, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=f"{tenant.portal_name} 管理画面")


def matching_step(secret: str, code: str, after_step: int | None = None) -> int | None:
    """The time step ``code`` belongs to (one step of clock drift allowed), else None.

    Steps at or before ``after_step`` are refused, so a code works once only.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        if secrets.compare_digest(totp.at(now, counter_offset=offset), code):
            step = current + offset
            if after_step is not None and step <= after_step:
                return None
            return step
    return None


def verify_totp(tenant: TenantContext, staff: StaffMember, code: str, remote_addr: str) -> StaffLogin:
    """Check a staff member's second-factor code, throttled; audit failures."""
    key = str(staff.id)
    if not throttle.allowed(tenant, TOTP_TRIES, key):
        return StaffLogin(throttled=True, retry_after=throttle.retry_after(tenant, TOTP_TRIES, key))
    step = matching_step(staff.totp_secret or "", code, staff.totp_last_step) if staff.totp_secret else None
    if step is None:
        throttle.hit(tenant, TOTP_TRIES, key)
        audit.record(staff.actor, "staff.login_failed", target=staff.email, remote_addr=remote_addr, reason="totp")
        return StaffLogin()
    staff.totp_last_step = step
    throttle.clear(tenant, TOTP_TRIES, key)
    return StaffLogin(staff=staff)


def enable_totp(staff: StaffMember, secret: str, code: str, remote_addr: str) -> None:
    """Turn the second factor on once the staff member proves their app shows ``code``."""
    step = matching_step(secret, code)
    if step is None:
        raise StaffError("code", "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")
    staff.totp_secret = secret
    staff.totp_last_step = step
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
