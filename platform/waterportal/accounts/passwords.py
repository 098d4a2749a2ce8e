"""Password hashing (argon2id): hash, verify, rehash on login.

Parameters come from the config (docs/security.md): production and development use
argon2id with time_cost=3, memory 64 MiB, parallelism 2, hash 32 bytes, salt 16 bytes.
The test configuration lowers only the cost (as Django's test settings do) so the suite
stays fast; hashes made with other parameters are upgraded at the next login.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

DEFAULTS = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 2}


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
    """Hash a password with argon2id."""
    return _current()[0].hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``stored_hash``; with ``None`` burn the same time and fail."""
    hasher, dummy = _current()
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
