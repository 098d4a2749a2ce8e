"""名義変更 (``holder_change``): a linked contract gets a new holder (相続, 売買, 改姓, ...)
from a date the 上下水道室 can act on (the city's business-day window, ``dates.py``)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import Schema

from waterportal.core.text import squash_spaces
from waterportal.procedures.dates import check_payload_date
from waterportal.procedures.fields import Choice, Day, Kana, Phone, Text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register

KEY = "holder_change"
REASONS = (
    "相続（ご契約者のご逝去）", "売買・贈与（建物の所有者の変更）", "結婚・離婚などによる改姓・改名",
    "ご家族の間での名義の変更", "法人の名称・代表者の変更", "その他",
)
OTHER = "その他"
# Who the new holder is to the present one (the 上下水道室 asks for documents accordingly).
RELATIONSHIPS = (
    "同一人（改姓・改名）", "配偶者", "子", "父母", "その他の親族", "親族以外（売買・賃貸など）", "法人",
)


class HolderChangeSchema(Schema):
    new_name = Text("新しいご契約者名", max_length=50)
    new_name_kana = Kana("新しいご契約者名（フリガナ）", max_length=50)
    relationship = Choice("現在のご契約者との関係", RELATIONSHIPS)
    reason = Choice("変更の理由", REASONS)
    reason_detail = Text("理由の詳細", required=False, max_length=500, multiline=True)
    effective_date = Day("名義変更日")
    phone = Phone("日中の連絡先電話番号")


def _bare(name: str | None) -> str:
    return squash_spaces(name).replace(" ", "")


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    """The date inside the city's window; a detail for 「その他」; a new name that is not
    the current holder's."""
    errors: dict[str, list[str]] = {}
    if data["reason"] == OTHER and not data["reason_detail"]:
        errors["reason_detail"] = [gettext("「その他」を選んだときは、理由の詳細を入力してください。")]
    try:
        check_payload_date(ctx.tenant, data, "effective_date", ctx.today)
    except ProcedureInvalid as exc:
        errors.update(exc.errors)
    # The same name is a mistake, unless the holder changes only the way it is written
    # (a new kana reading, 旧字体 to 新字体 is a different name anyway).
    same_person = data["relationship"] == RELATIONSHIPS[0]
    if ctx.contract is not None and not same_person and _bare(data["new_name"]) == _bare(ctx.contract.holder_name):
        errors["new_name"] = [gettext("現在のご契約者と同じお名前です。新しいご契約者のお名前を入力してください。")]
    if errors:
        raise ProcedureInvalid(errors)


register(ProcedureKind(
    KEY, "名義変更", HolderChangeSchema, needs_contract=True, check=check,
    csv_columns=(
        ("新契約者名", "new_name"), ("新契約者名カナ", "new_name_kana"), ("現契約者との関係", "relationship"),
        ("変更理由", "reason"),
        ("理由詳細", "reason_detail"), ("名義変更日", "effective_date"), ("連絡先電話番号", "phone"),
    ),
    description="ご契約者（料金のお支払いをされる方）のお名前を変更する。",
    order=30,
))
