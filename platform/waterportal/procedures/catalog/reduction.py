"""減免申請 (``reduction``): a member asks the city to reduce the charges of a linked
contract for one of the city's reduction kinds (``[[procedures.reduction_kinds]]``: a name
and the note the form shows under it: who qualifies, which certificate to attach).

The certificate's number (受給者証・手帳の番号) is a sensitive field: stored encrypted, shown
masked. Whether the household really qualifies is the city's decision (処理中 -> 完了 or
差戻し); the portal only checks that the form is complete and the kind is one the city offers.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import Schema

from waterportal.procedures.fields import Phone, Text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register
from waterportal.procedures.reductions import (
    Month,
    month_index,
    month_of,
    month_window_message,
    reduction_kinds,
    shift_month,
    summary_rows,
)
from waterportal.tenancy.context import TenantContext

KEY = "reduction"
# The first month a reduction may start: from this month up to this many months ahead.
START_MONTHS_AHEAD = 6


class ReductionSchema(Schema):
    reduction_kind = Text("減免の種類", max_length=60)
    beneficiary_name = Text("対象となる方のお名前", max_length=50)
    certificate_number = Text("受給者証・手帳などの番号", required=False, max_length=30)
    start_month = Month("減免を希望する開始月")
    phone = Phone("日中の連絡先電話番号")
    note = Text("補足(世帯の状況など)", required=False, max_length=1000, multiline=True)


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    """The kind must be one the city lists; the start month lies in this month .. 6 months ahead."""
    errors: dict[str, list[str]] = {}
    names = [kind["name"] for kind in reduction_kinds(ctx.tenant)]
    if not names:
        errors["reduction_kind"] = [gettext("現在、オンラインで申請できる減免の種類がありません。お手数ですが窓口へお問い合わせください。")]
    elif data["reduction_kind"] not in names:
        errors["reduction_kind"] = [gettext("減免の種類を選択肢から選んでください。")]
    first = month_of(ctx.today)
    last = shift_month(first, START_MONTHS_AHEAD)
    if not month_index(first) <= month_index(data["start_month"]) <= month_index(last):
        errors["start_month"] = [month_window_message("減免を希望する開始月", first, last)]
    if errors:
        raise ProcedureInvalid(errors)


def summary(tenant: TenantContext, shown: dict[str, Any]) -> list[tuple[str, str]]:  # noqa: ARG001
    return summary_rows(KIND, shown, starts=("start_month",))


KIND = register(ProcedureKind(
    KEY, "減免申請", ReductionSchema, needs_contract=True, attachments=True, check=check, summary=summary,
    sensitive=("certificate_number",),
    csv_columns=(
        ("減免種類", "reduction_kind"), ("対象者氏名", "beneficiary_name"), ("証明書番号", "certificate_number"),
        ("開始希望月", "start_month"), ("連絡先電話番号", "phone"), ("補足", "note"),
    ),
    description="生活保護世帯など、市が定める理由による水道料金・下水道使用料の減免を申請する。",
    order=70,
))
