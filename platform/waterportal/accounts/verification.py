"""Six-digit email verification codes (registration now, changing the email address later).

Rules (the city sets the lifetime, ``registration.code_ttl_minutes``):

* a code comes from :mod:`secrets` (a CSPRNG) and is mailed, never shown on screen;
* it is stored as HMAC-SHA256 keyed with the app's ``SECRET_KEY`` over tenant, purpose,
  address, a per-row salt and the code. A plain or even a slow hash (argon2) of a
  six-digit code is no protection: there are only 10^6 codes, so anyone holding a copy
  of the table could try them all. With the key outside the database a leaked table
  alone reveals nothing, and checking stays cheap and constant-time;
* it works once, dies after :data:`MAX_ATTEMPTS` wrong tries, dies when a newer code
  is sent to the same address for the same purpose, and expires after the lifetime;
* a new code for the same address and purpose can be sent only every
  :data:`RESEND_INTERVAL` (timestamp of the newest row, so it holds across workers)
  and at most :data:`HOURLY_SENDS` times an hour (``core.throttle``).

A code is bound to a ``subject`` (``"draft:12"``, ``"member:3"``): it only verifies in
the flow that asked for it. Callers decide what to mail; :func:`issue_code` returns
the plain code and stores only its hash.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from waterportal.accounts.models import VerificationCode
from waterportal.core import throttle
from waterportal.core.text import digits_only
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

MAX_ATTEMPTS = 5
RESEND_INTERVAL = dt.timedelta(seconds=60)
HOURLY_SENDS = throttle.Rule("verification-send-hour", "6 per hour")
CODE_PATTERN = re.compile(r"^[0-9]{6}$")


class CodeStatus(enum.Enum):
    """Outcome of :func:`check_code`."""

    OK = "ok"
    MALFORMED = "malformed"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY = "too_many"
    SUPERSEDED = "superseded"
    USED = "used"
    MISSING = "missing"


# What the citizen reads for each outcome (except OK and WRONG, see :func:`message_for`), in the
# request's language (lazy: read when shown; %(ttl)s and %(max)s filled by message_for).
MESSAGES = {
    CodeStatus.MALFORMED: _l("認証コードはメールに記載された6桁の数字で入力してください。"),
    CodeStatus.EXPIRED: _l("認証コードの有効期限(%(ttl)s分)が切れています。「認証コードの送信」を押して、新しい認証コードを受け取ってください。"),
    CodeStatus.TOO_MANY: _l("認証コードの入力を%(max)s回間違えたため、この認証コードは無効になりました。「認証コードの送信」を押して、新しい認証コードを受け取ってください。"),
    CodeStatus.SUPERSEDED: _l("新しい認証コードを送信したため、この認証コードは無効です。最後に届いたメールの認証コードを入力してください。"),
    CodeStatus.USED: _l("この認証コードは使用済みです。「認証コードの送信」を押して、新しい認証コードを受け取ってください。"),
    CodeStatus.MISSING: _l("認証コードが送信されていません。「認証コードの送信」を押してください。"),
}


@dataclass(frozen=True)
class CheckResult:
    """``status`` and, for a wrong code, how many tries are left."""

    status: CodeStatus
    remaining: int = 0

    @property
    def ok(self) -> bool:
        return self.status is CodeStatus.OK


class ResendTooSoon(Exception):
    """A code was sent to this address too recently; ``seconds`` until the next may go."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        super().__init__(f"resend refused for {seconds}s")


def message_for(result: CheckResult, ttl_minutes: int) -> str:
    """The message for a failed check, in the request's language."""
    if result.status is CodeStatus.WRONG:
        if result.remaining:
            return gettext("認証コードが正しくありません。メールに記載された認証コードを入力してください(あと%(remaining)s回入力できます)。",
                           remaining=result.remaining)
        return str(MESSAGES[CodeStatus.TOO_MANY]) % {"max": MAX_ATTEMPTS}
    text = str(MESSAGES[result.status])
    return text % {"ttl": ttl_minutes, "max": MAX_ATTEMPTS} if "%(" in text else text


def resend_message(seconds: int) -> str:
    """The notice for a refused resend, in the request's language."""
    if seconds > 90:
        return gettext("認証コードの送信回数が上限に達しました。約%(minutes)s分後に再度お試しください。", minutes=-(-seconds // 60))
    return gettext("認証コードは送信済みです。再送信は%(seconds)s秒後から行えます。", seconds=seconds)


def _digest(tenant: TenantContext, purpose: str, email: str, salt: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = "\x1f".join([str(tenant.id), purpose, email, salt, code]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_code() -> str:
    """Six random digits from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def seconds_until_resend(tenant: TenantContext, purpose: str, email: str) -> int:
    """0 when a code may be sent to ``email`` now, else the seconds to wait."""
    latest = db.session.scalar(
        select(VerificationCode.created_at)
        .where(VerificationCode.tenant_id == tenant.id, VerificationCode.purpose == purpose, VerificationCode.email == email)
        .order_by(VerificationCode.created_at.desc())
        .limit(1)
    )
    now = utcnow_naive()
    if latest is not None and now < latest + RESEND_INTERVAL:
        return max(1, int((latest + RESEND_INTERVAL - now).total_seconds() + 0.999))
    return throttle.retry_after(tenant, HOURLY_SENDS, f"{purpose}:{email}")


def issue_code(tenant: TenantContext, purpose: str, email: str, subject: str, ttl_minutes: int) -> str:
    """Create a code for ``email`` and return it in plain text (only its hash is stored).

    Earlier live codes for the same address and purpose die. Raises
    :class:`ResendTooSoon` inside the resend interval or the hourly cap. Flushes only.
    """
    wait = seconds_until_resend(tenant, purpose, email)
    if wait:
        raise ResendTooSoon(wait)
    throttle.hit(tenant, HOURLY_SENDS, f"{purpose}:{email}")
    now = utcnow_naive()
    _purge_stale(now)
    db.session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.purpose == purpose,
            VerificationCode.email == email,
            VerificationCode.used_at.is_(None),
            VerificationCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    salt = secrets.token_hex(16)
    db.session.add(
        VerificationCode(
            tenant_id=tenant.id, purpose=purpose, email=email, subject=subject, salt=salt,
            code_hash=_digest(tenant, purpose, email, salt, code),
            created_at=now, expires_at=now + dt.timedelta(minutes=ttl_minutes),
        )
    )
    db.session.flush()
    return code


def check_code(tenant: TenantContext, purpose: str, email: str, subject: str, code: str) -> CheckResult:
    """Check ``code`` against the newest code sent to ``email`` for ``subject``.

    Success marks the code used (exactly once, even under concurrent requests); a wrong
    code counts a try and the last allowed try kills it. Flushes only: the caller commits,
    also after a failure, so counted tries persist.
    """
    typed = digits_only(code)
    if not CODE_PATTERN.match(typed):
        return CheckResult(CodeStatus.MALFORMED)
    row = db.session.scalar(
        select(VerificationCode)
        .where(
            VerificationCode.tenant_id == tenant.id,
            VerificationCode.purpose == purpose,
            VerificationCode.email == email,
            VerificationCode.subject == subject,
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
    )
    if row is None:
        return CheckResult(CodeStatus.MISSING)
    if row.used_at is not None:
        return CheckResult(CodeStatus.USED)
    if row.revoked_at is not None:
        return CheckResult(CodeStatus.TOO_MANY if row.attempts >= MAX_ATTEMPTS else CodeStatus.SUPERSEDED)
    now = utcnow_naive()
    if now >= row.expires_at:
        return CheckResult(CodeStatus.EXPIRED)
    live = (
        VerificationCode.id == row.id,
        VerificationCode.used_at.is_(None),
        VerificationCode.revoked_at.is_(None),
        VerificationCode.attempts < MAX_ATTEMPTS,
    )
    if hmac.compare_digest(row.code_hash, _digest(tenant, purpose, email, row.salt, typed)):
        done = db.session.execute(
            update(VerificationCode).where(*live).values(used_at=now).execution_options(synchronize_session=False)
        )
        db.session.expire(row)
        return CheckResult(CodeStatus.OK) if done.rowcount == 1 else CheckResult(CodeStatus.USED)
    db.session.execute(
        update(VerificationCode)
        .where(*live)
        .values(attempts=VerificationCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(VerificationCode)
        .where(VerificationCode.id == row.id, VerificationCode.attempts >= MAX_ATTEMPTS, VerificationCode.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(row)
    remaining = max(0, MAX_ATTEMPTS - row.attempts)
    return CheckResult(CodeStatus.WRONG, remaining=remaining)


def _purge_stale(now: dt.datetime) -> None:
    """Forget codes of this city that ended more than a day ago (they prove nothing later)."""
    db.session.execute(
        delete(VerificationCode)
        .where(VerificationCode.expires_at < now - dt.timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
