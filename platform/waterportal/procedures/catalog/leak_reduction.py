"""漏水減額申請 (``leak_reduction``): after a leak on the customer's side of the meter was
repaired, the member asks for the water that leaked to be taken off the affected bills.

The form asks where the leak was, when it was noticed and repaired, who repaired it (a
指定給水装置工事事業者: the city checks the name against its list), the billing months it
affected, and files: a photo of the repaired pipe and the repair receipt (at least one
file; the city's note says which it needs). Whether the leak qualifies (most cities take
off only hidden leaks, not a dripping tap) is the city's decision, worded in its note.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import Schema

from waterportal.procedures.fields import Choice, Day, Phone, Text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register
from waterportal.procedures.reductions import (
    Month,
    month_index,
    month_of,
    month_window_message,
    shift_month,
    summary_rows,
)
from waterportal.tenancy.context import TenantContext

KEY = "leak_reduction"
LOCATIONS = (
    "宅地内の地中(埋設された給水管)",
    "建物の床下・壁の中の給水管",
    "屋外の露出した給水管",
    "給湯器・受水槽などの設備まわり",
    "その他",
)
OTHER = "その他"
# The online form takes leaks noticed within this many days, and billing months within this
# many months back; older cases are for the counter (the city looks at its records).
NOTICED_WITHIN_DAYS = 365
MONTHS_BACK = 12


class LeakReductionSchema(Schema):
    leak_location = Choice("漏水箇所", LOCATIONS)
    leak_detail = Text("漏水箇所の詳しい場所", required=False, max_length=200)
    noticed_on = Day("漏水に気付いた日")
    repaired_on = Day("修理が完了した日")
    repairer_name = Text("修理した事業者(指定給水装置工事事業者)", max_length=100)
    repairer_phone = Phone("修理した事業者の電話番号", required=False)
    first_month = Month("減額を希望する請求月(始め)")
    last_month = Month("減額を希望する請求月(終わり)")
    phone = Phone("日中の連絡先電話番号")
    note = Text("補足", required=False, max_length=1000, multiline=True)


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    """Dates in order and not in the future; months in order, within the last 12 months."""
    errors: dict[str, list[str]] = {}
    today = ctx.today
    if data["leak_location"] == OTHER and not data["leak_detail"]:
        errors["leak_detail"] = [gettext("「その他」を選んだときは、漏水箇所の詳しい場所を入力してください。")]
    noticed, repaired = data["noticed_on"], data["repaired_on"]
    if noticed > today:
        errors["noticed_on"] = [gettext("漏水に気付いた日に、今日より後の日付は指定できません。")]
    elif (today - noticed).days > NOTICED_WITHIN_DAYS:
        errors["noticed_on"] = [gettext("1年以上前に気付いた漏水は、オンラインでは申請できません。お手数ですが窓口へご相談ください。")]
    if repaired > today:
        errors["repaired_on"] = [gettext("修理が完了してから申請してください(今日より後の日付は指定できません)。")]
    elif repaired < noticed and "noticed_on" not in errors:
        errors["repaired_on"] = [gettext("修理が完了した日は、漏水に気付いた日以降の日付を指定してください。")]
    last_allowed = month_of(today)
    first_allowed = shift_month(last_allowed, -MONTHS_BACK)
    for key, label in (("first_month", _l("請求月(始め)")), ("last_month", _l("請求月(終わり)"))):
        if not month_index(first_allowed) <= month_index(data[key]) <= month_index(last_allowed):
            errors[key] = [month_window_message(label, first_allowed, last_allowed)]
    if "first_month" not in errors and "last_month" not in errors and data["last_month"] < data["first_month"]:
        errors["last_month"] = [gettext("請求月(終わり)は、請求月(始め)と同じか後の月を指定してください。")]
    if errors:
        raise ProcedureInvalid(errors)


def summary(tenant: TenantContext, shown: dict[str, Any]) -> list[tuple[str, str]]:  # noqa: ARG001
    return summary_rows(KIND, shown)


KIND = register(ProcedureKind(
    KEY, "漏水減額申請", LeakReductionSchema, needs_contract=True, attachments=True, attachments_required=True,
    check=check, summary=summary,
    csv_columns=(
        ("漏水箇所", "leak_location"), ("漏水箇所詳細", "leak_detail"), ("漏水発見日", "noticed_on"),
        ("修理完了日", "repaired_on"), ("修理事業者", "repairer_name"), ("修理事業者電話番号", "repairer_phone"),
        ("対象請求月始め", "first_month"), ("対象請求月終わり", "last_month"), ("連絡先電話番号", "phone"),
        ("補足", "note"),
    ),
    description="宅地内の漏水を修理したあと、漏水した分の料金の減額を申請する(修理箇所の写真・領収書を添付)。",
    order=80,
))
