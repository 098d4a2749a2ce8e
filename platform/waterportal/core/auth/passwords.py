"""Passwords: argon2id hashing and the one policy every account kind is checked against.

Hashing parameters come from the config (docs/security.md): production and development use
argon2id with time_cost=3, memory 64 MiB, parallelism 2, hash 32 bytes, salt 16 bytes.
The test configuration lowers only the cost (as Django's test settings do) so the suite
stays fast; hashes made with other parameters are upgraded at the next login.

The policy is a city's rules on top of the platform floor (also enforced by the settings
schema, tenancy/schemas.py, which reads the numbers here): at least 8 characters, at least
64 allowed, never truncated, common passwords refused. A city can only add rules.
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from flask_babel import gettext

from waterportal.core.database import release_write_lock

DEFAULTS = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 2}

# The platform floor: no city may ask for less than FLOOR_MIN_LENGTH characters, or allow
# fewer than MAX_LENGTH_AT_LEAST; MAX_LENGTH is the default maximum (and the staff maximum).
FLOOR_MIN_LENGTH = 8
MAX_LENGTH_AT_LEAST = 64
MAX_LENGTH = 128
# A shorter identifier is too common a substring to refuse (「taro」 is, 「abc」 is not).
IDENTIFIER_MIN_LENGTH = 4


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, hash_len=32, salt_len=16, type=Type.ID
    )
    # A real hash to verify against when the account does not exist, so both paths cost the same.
    return hasher, hasher.hash("not-a-real-password-for-timing")


def hasher_for(config: Mapping) -> PasswordHasher:
    """The argon2id hasher for a configuration mapping (missing keys: platform defaults)."""
    return _hasher(*(int(config.get(key, default)) for key, default in DEFAULTS.items()))[0]


def _current() -> tuple[PasswordHasher, str]:
    config = current_app.config if has_app_context() else DEFAULTS
    return _hasher(*(int(config.get(key, default)) for key, default in DEFAULTS.items()))


def hash_password(password: str) -> str:
    """Hash a password with argon2id (SQLite's write lock is not held meanwhile)."""
    release_write_lock()
    return _current()[0].hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``stored_hash``; with ``None`` burn the same time and fail."""
    hasher, dummy = _current()
    release_write_lock()  # argon2 takes long: other writers need not wait for it (core/database.py)
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with parameters other than the current ones."""
    try:
        return _current()[0].check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Lower-cased common passwords (bundled list), refused for every account."""
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def policy_lines(policy: Mapping) -> list[str]:
    """The rules as citizens read them next to the password field (in the request's language)."""
    symbols = policy["allowed_symbols"]
    lines = [gettext("半角英数字%(length)s文字以上", length=max(policy["min_length"], FLOOR_MIN_LENGTH))]
    if policy.get("require_upper"):
        lines.append(gettext("アルファベット大文字を含む"))
    if policy.get("require_lower"):
        lines.append(gettext("アルファベット小文字を含む"))
    if policy.get("require_digit"):
        lines.append(gettext("数字を含む"))
    if policy.get("require_symbol"):
        lines.append(gettext("記号(%(symbols)s)を含む", symbols=symbols))
    lines.append(gettext("使用できる記号は %(symbols)s のみ", symbols=symbols))
    return lines


def _identifiers(email: str | None, login_id: str | None, name: str | None) -> list[str]:
    """What a password may not contain: the email, its local part, the login ID, the name
    (without spaces, which no password can hold), each lower-cased and long enough to matter."""
    email = email or ""
    candidates = (email, email.split("@")[0], login_id or "", (name or "").replace(" ", "").replace("\u3000", ""))
    return [c.lower() for c in candidates if len(c) >= IDENTIFIER_MIN_LENGTH]


def password_problems(
    password: str, policy: Mapping, *, email: str | None = None, login_id: str | None = None, name: str | None = None,
) -> list[str]:
    """Every rule ``password`` breaks, as messages in the request's language (empty list: acceptable).

    ``policy`` is a city's ``password_policy`` (or the staff policy); the floor applies on
    top. Pass the account's identifiers that are known: the same rule holds for every caller.
    """
    problems: list[str] = []
    min_length = max(policy["min_length"], FLOOR_MIN_LENGTH)
    max_length = policy.get("max_length", MAX_LENGTH)
    symbols = set(policy["allowed_symbols"])
    allowed = set(string.ascii_letters + string.digits) | symbols
    if len(password) < min_length:
        problems.append(gettext("パスワードは%(length)s文字以上で入力してください。", length=min_length))
    if len(password) > max_length:
        problems.append(gettext("パスワードは%(length)s文字以内で入力してください。", length=max_length))
    bad = sorted({ch for ch in password if ch not in allowed})
    if bad:
        problems.append(gettext("使用できない文字が含まれています(%(bad)s)。半角英数字と記号 %(symbols)s のみ使用できます。",
                                bad="".join(bad), symbols=policy["allowed_symbols"]))
    if policy.get("require_upper") and not any(ch in string.ascii_uppercase for ch in password):
        problems.append(gettext("アルファベット大文字を含めてください。"))
    if policy.get("require_lower") and not any(ch in string.ascii_lowercase for ch in password):
        problems.append(gettext("アルファベット小文字を含めてください。"))
    if policy.get("require_digit") and not any(ch in string.digits for ch in password):
        problems.append(gettext("数字を含めてください。"))
    if policy.get("require_symbol") and not any(ch in symbols for ch in password):
        problems.append(gettext("記号(%(symbols)s)を含めてください。", symbols=policy["allowed_symbols"]))
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append(gettext("よく使われていて推測されやすいパスワードです。別のパスワードにしてください。"))
    if any(ident in lowered for ident in _identifiers(email, login_id, name)):
        problems.append(gettext("メールアドレスやログインIDを含むパスワードは使用できません。"))
    return problems
