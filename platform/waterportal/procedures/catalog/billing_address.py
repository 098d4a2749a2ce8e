"""送付先変更 (``billing_address``): where the 検針票 and 納付書 of a linked contract are posted
(〒, 都道府県, 市区町村, 町名・番地, 建物名, 宛名)."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from marshmallow import Schema

from waterportal.core.text import digits_only
from waterportal.procedures.fields import Choice, Text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register

KEY = "billing_address"
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県",
    "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",
    "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県",
    "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県",
    "宮崎県", "鹿児島県", "沖縄県",
)
_POSTAL = re.compile(r"[0-9]{7}")


class BillingAddressSchema(Schema):
    postal_code = Text("郵便番号", max_length=10)
    prefecture = Choice("都道府県", PREFECTURES)
    city = Text("市区町村", max_length=40)
    street = Text("町名・番地", max_length=80)
    building = Text("建物名・部屋番号", required=False, max_length=80)
    recipient = Text("宛名", max_length=50)


def format_postal(digits: str) -> str:
    """``0960000`` -> ``096-0000``."""
    return f"{digits[:3]}-{digits[3:]}"


def check(ctx: KindContext, data: dict[str, Any]) -> None:  # noqa: ARG001 - the registry's hook signature
    errors: dict[str, list[str]] = {}
    postal = digits_only(data["postal_code"].replace("〒", ""))
    if not _POSTAL.fullmatch(postal):
        errors["postal_code"] = [gettext("郵便番号は7桁の数字で入力してください（例: 096-8686）。")]
    else:
        data["postal_code"] = format_postal(postal)
    if errors:
        raise ProcedureInvalid(errors)


register(ProcedureKind(
    KEY, "送付先変更", BillingAddressSchema, needs_contract=True, check=check,
    csv_columns=(
        ("郵便番号", "postal_code"), ("都道府県", "prefecture"), ("市区町村", "city"), ("町名番地", "street"),
        ("建物名部屋番号", "building"), ("宛名", "recipient"),
    ),
    description="検針票・納付書などの郵便物の送付先を、ご使用場所以外の住所に変更する。",
    order=40,
))
