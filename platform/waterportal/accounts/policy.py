"""The password policy: a city's rules on top of the platform floor, in Japanese.

The floor (enforced here and by the settings schema): at least 8 characters, at least
64 allowed, never truncated, common passwords refused. A city can only add rules.
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

FLOOR_MIN_LENGTH = 8


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Lower-cased common passwords (bundled list), refused in every city."""
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def policy_lines(policy: Mapping) -> list[str]:
    """The rules as citizens read them next to the password field."""
    lines = [f"半角英数字{max(policy['min_length'], FLOOR_MIN_LENGTH)}文字以上"]
    if policy.get("require_upper"):
        lines.append("アルファベット大文字を含む")
    if policy.get("require_lower"):
        lines.append("アルファベット小文字を含む")
    if policy.get("require_digit"):
        lines.append("数字を含む")
    if policy.get("require_symbol"):
        lines.append(f"記号({policy['allowed_symbols']})を含む")
    lines.append(f"使用できる記号は {policy['allowed_symbols']} のみ")
    return lines


def password_problems(policy: Mapping, password: str, identifiers: tuple[str, ...] = ()) -> list[str]:
    """Every rule the password breaks, as Japanese messages (empty list: acceptable)."""
    problems: list[str] = []
    min_length = max(policy["min_length"], FLOOR_MIN_LENGTH)
    symbols = set(policy["allowed_symbols"])
    allowed = set(string.ascii_letters + string.digits) | symbols
    if len(password) < min_length:
        problems.append(f"パスワードは{min_length}文字以上で入力してください。")
    if len(password) > policy.get("max_length", 128):
        problems.append(f"パスワードは{policy.get('max_length', 128)}文字以内で入力してください。")
    bad = sorted({ch for ch in password if ch not in allowed})
    if bad:
        problems.append(f"使用できない文字が含まれています({''.join(bad)})。半角英数字と記号 {policy['allowed_symbols']} のみ使用できます。")
    if policy.get("require_upper") and not any(ch in string.ascii_uppercase for ch in password):
        problems.append("アルファベット大文字を含めてください。")
    if policy.get("require_lower") and not any(ch in string.ascii_lowercase for ch in password):
        problems.append("アルファベット小文字を含めてください。")
    if policy.get("require_digit") and not any(ch in string.digits for ch in password):
        problems.append("数字を含めてください。")
    if policy.get("require_symbol") and not any(ch in symbols for ch in password):
        problems.append(f"記号({policy['allowed_symbols']})を含めてください。")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("よく使われていて推測されやすいパスワードです。別のパスワードにしてください。")
    for ident in identifiers:
        if ident and len(ident) >= 4 and ident.lower() in lowered:
            problems.append("メールアドレスやログインIDを含むパスワードは使用できません。")
            break
    return problems
