"""名義変更 (``holder_change``): a linked contract gets a new holder (相続, 売買, 改姓, ...)
from a date the 上下水道室 can act on (the city's business-day window, ``dates.py``)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from waterportal.core.text import digits_only, is_katakana, katakana_name, squash_spaces
from waterportal.procedures import dates
from waterportal.procedures.fieldkit import choice, optional_text, required_text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register

KEY = "holder_change"
REASONS = (
    "相続（ご契約者のご逝去）", "売買・贈与（建物の所有者の変更）", "結婚・離婚などによる改姓・改名",
    "ご家族の間での名義の変更", "法人の名称・代表者の変更", "その他",
)
OTHER = "その他"


def phone_field() -> fields.String:
    return required_text("連絡先電話番号", 20, what="日中に連絡のつく電話番号")


def date_field(label: str) -> fields.Date:
    message = f"{label}を選択してください（例: 2026-12-01）。"
    return fields.Date(required=True, metadata={"label": label},
                       error_messages={"required": message, "null": message, "invalid": message})


class HolderChangeSchema(Schema):
    new_name = required_text("新しいご契約者名", 50)
    new_name_kana = required_text("新しいご契約者名（フリガナ）", 50)
    reason = choice("変更の理由", REASONS)
    reason_detail = optional_text("理由の詳細", 500)
    effective_date = date_field("名義変更日")
    phone = phone_field()


def check_phone(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """10 or 11 digits (full-width digits and hyphens accepted), stored as digits."""
    phone = digits_only(data["phone"])
    if not phone.isascii() or not phone.isdigit() or len(phone) not in (10, 11):
        errors["phone"] = ["電話番号は市外局番から10桁または11桁の数字で入力してください。"]
    else:
        data["phone"] = phone


def _bare(name: str | None) -> str:
    return squash_spaces(name).replace(" ", "")


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    data["new_name"] = squash_spaces(data["new_name"])
    kana = katakana_name(data["new_name_kana"])
    if not is_katakana(kana):
        errors["new_name_kana"] = ["フリガナはカタカナ（またはひらがな）で入力してください。"]
    else:
        data["new_name_kana"] = kana
    if data["reason"] == OTHER and not data["reason_detail"]:
        errors["reason_detail"] = ["「その他」を選んだときは、理由の詳細を入力してください。"]
    try:
        dates.check_date(ctx.tenant, data["effective_date"], ctx.today)
    except dates.DateNotAllowed as exc:
        errors["effective_date"] = [str(exc)]
    check_phone(data, errors)
    if ctx.contract is not None and _bare(data["new_name"]) == _bare(ctx.contract.holder_name):
        errors["new_name"] = ["現在のご契約者と同じお名前です。新しいご契約者のお名前を入力してください。"]
    if errors:
        raise ProcedureInvalid(errors)


register(ProcedureKind(
    KEY, "名義変更", HolderChangeSchema, needs_contract=True, check=check,
    csv_columns=(
        ("新契約者名", "new_name"), ("新契約者名カナ", "new_name_kana"), ("変更理由", "reason"),
        ("理由詳細", "reason_detail"), ("名義変更日", "effective_date"), ("連絡先電話番号", "phone"),
    ),
    description="ご契約者（料金のお支払いをされる方）のお名前を変更する。",
    order=30,
))
