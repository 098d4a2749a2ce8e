"""Password hashing (argon2id) and the password policy check.

Parameters (docs/security.md): argon2id, time_cost=3, memory_cost=64 MiB, parallelism=2,
hash 32 bytes, salt 16 bytes. Hashes made with older parameters are upgraded at login.
"""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=2, hash_len=32, salt_len=16, type=Type.ID)
# A real hash to verify against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = HASHER.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``stored_hash``; with ``None`` burn the same time and fail."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with parameters other than the current ones."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
