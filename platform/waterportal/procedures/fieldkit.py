"""Payload fields the holder, address, payment and paperless kinds share: required text
with a length limit, a choice among fixed values, and the messages citizens read."""
from __future__ import annotations

from collections.abc import Iterable

from marshmallow import fields, validate


def required_text(label: str, max_length: int, *, what: str = "") -> fields.String:
    """A required text field (an empty value says which field is missing)."""
    missing = f"{what or label}を入力してください。"
    return fields.String(
        required=True, metadata={"label": label},
        error_messages={"required": missing, "null": missing, "invalid": missing},
        validate=[
            validate.Length(min=1, error=missing),
            validate.Length(max=max_length, error=f"{label}は{max_length}文字以内で入力してください。"),
        ],
    )


def optional_text(label: str, max_length: int) -> fields.String:
    """Text that may stay empty (stored as '')."""
    return fields.String(
        load_default="", metadata={"label": label},
        error_messages={"invalid": f"{label}を確認してください。"},
        validate=validate.Length(max=max_length, error=f"{label}は{max_length}文字以内で入力してください。"),
    )


def choice(label: str, values: Iterable[str], *, labelled: bool = True) -> fields.String:
    """One of ``values`` (a radio group or select): anything else says to choose."""
    message = f"{label}を選択してください。"
    return fields.String(
        required=True, metadata={"label": label} if labelled else {},
        error_messages={"required": message, "null": message, "invalid": message},
        validate=validate.OneOf(list(values), error=message),
    )


def hidden(default: str = "") -> fields.String:
    """A helper value of the form that is not shown on the receipt (a pick from a list)."""
    return fields.String(load_default=default, validate=validate.Length(max=20))
