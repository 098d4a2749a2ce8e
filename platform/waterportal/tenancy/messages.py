"""marshmallow's built-in validation messages, in Japanese.

Vendors read these from ``tenant apply`` and ``tenant check``;
our own validators already speak Japanese. (The city console words its form messages itself,
in admin/settings/schema_form.py, as 入力してください.) One table here rather than ``error=`` on every
field keeps the schemas readable and catches every built-in message at once.
"""
from __future__ import annotations

import re

_EXACT = {
    "Missing data for required field.": "必須の項目です。",
    "Unknown field.": "この項目は使用できません(項目名の綴りをご確認ください)。",
    "Field may not be null.": "空にはできません。",
    "Not a valid integer.": "整数で指定してください。",
    "Not a valid number.": "数値で指定してください。",
    "Special numeric values (nan or infinity) are not permitted.": "数値で指定してください。",
    "Not a valid boolean.": "true または false で指定してください。",
    "Not a valid string.": "文字列で指定してください。",
    "Not a valid email address.": "メールアドレスの形式で指定してください。",
    "Not a valid list.": "リストで指定してください。",
    "Invalid input type.": "形式が正しくありません。",
    "Invalid value.": "値が正しくありません。",
    "String does not match expected pattern.": "形式が正しくありません。",
}
_PATTERNS = [
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"), r"\1以上\2以下で指定してください。"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"\1以上で指定してください。"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"\1以下で指定してください。"),
    (re.compile(r"^Must be one of: (.+)\.$"), r"次のいずれかを指定してください: \1"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"\1個(文字)以上で指定してください。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"\1文字(個)以内で指定してください。"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"\1〜\2文字(個)で指定してください。"),
]


def japanese(message: str) -> str:
    """The Japanese form of a built-in marshmallow message (others pass through)."""
    text = str(message)
    if text in _EXACT:
        return _EXACT[text]
    for pattern, replacement in _PATTERNS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text
