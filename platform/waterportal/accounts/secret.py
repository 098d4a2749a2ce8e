"""Secret question answers (login-ID cities): normalised, then hashed like passwords.

Normalising first means 「たなか」, 「タナカ」, 「ﾀﾅｶ」 and 「 タナカ 」 all match, and
ASCII answers ignore case and width.
"""
from __future__ import annotations

import unicodedata

from waterportal.core.auth.passwords import hash_password, verify_password
from waterportal.core.text import katakana_name


def normalise_answer(answer: str) -> str:
    """Width, kana, case and spaces folded: the form that is hashed and compared."""
    text = unicodedata.normalize("NFKC", answer or "")
    return katakana_name(text).lower()


def hash_answer(answer: str) -> str:
    """argon2id hash of the normalised answer."""
    return hash_password(normalise_answer(answer))


def verify_answer(stored_hash: str | None, answer: str) -> bool:
    """Check an answer; constant work whether or not a hash is stored."""
    return verify_password(stored_hash, normalise_answer(answer))
