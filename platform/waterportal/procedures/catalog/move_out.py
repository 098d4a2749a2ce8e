"""水道の使用中止 (moving out): for a member's linked contract, or without an account by
お客様番号 + registered phone + kana, matched exactly as at registration (the same
function, so the same normalisation and the same throttles per number, applicant and
client address)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import Schema

from waterportal.contracts.services import NOT_FOUND, REASON_TEXT, get_contract, match_contract, throttle_message
from waterportal.procedures.fields import Choice, Day, Digits, Kana, Phone, Text
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, register

FINAL_PAYMENTS = ("現在と同じ方法(口座振替)で支払う", "転居先に納付書を送ってもらう")
# Matching fields of an applicant without an account: checked, then dropped from the payload
# (the contract they identify is the request's contract).
MATCH_FIELDS = ("customer_number", "registered_phone", "holder_kana")


class MoveOutSchema(Schema):
    customer_number = Digits("お客様番号", required=False)
    registered_phone = Phone("ご登録の電話番号", required=False)
    holder_kana = Kana("契約者のお名前(フリガナ)", required=False, max_length=50)
    # inside the city's window (lead business days, horizon, no closed day)
    stop_date = Day("使用中止日", window=True)
    final_address = Text("最終料金の請求書の送付先(転居先の住所)", max_length=200)
    final_payment = Choice("最終料金のお支払い方法", FINAL_PAYMENTS)
    contact_phone = Phone("連絡先の電話番号")
    meter_access = Text("メーターの場所・立会いについて", required=False, max_length=500, multiline=True)

LABELS = {key: MoveOutSchema._declared_fields[key].metadata["label"] for key in MATCH_FIELDS}
# The export's own columns: what is stored (the matching fields are not; the common columns
# carry the matched contract's お客様番号 and holder).
COLUMNS = tuple((f.metadata["label"], key) for key, f in MoveOutSchema._declared_fields.items() if key not in MATCH_FIELDS)


def check(ctx: KindContext, data: dict[str, Any]) -> None:
    """Without a linked contract: the contract matched from お客様番号, phone and kana
    (registration's matching and throttles). The stop date is checked by its field."""
    if ctx.contract is None:
        missing = {key: [gettext("%(label)sを入力してください。", label=gettext(LABELS[key]))] for key in MATCH_FIELDS if not data.get(key)}
        if missing:
            raise ProcedureInvalid(missing)
        digits = ctx.tenant.settings["registration"]["customer_number_digits"]
        if len(data["customer_number"]) != digits:
            raise ProcedureInvalid({"customer_number": [gettext("お客様番号は%(digits)s桁の数字で入力してください。", digits=digits)]})
        outcome = match_contract(ctx.tenant, data["customer_number"], data["registered_phone"], data["holder_kana"],
                                 requester=f"procedure:{ctx.email}", remote_addr=ctx.remote_addr)
        if outcome.throttled:
            raise ProcedureInvalid({"_form": [throttle_message(outcome.retry_after)]})
        if not outcome.matched:
            raise ProcedureInvalid({"customer_number": [NOT_FOUND, *(REASON_TEXT[r] for r in outcome.reasons)]})
        ctx.contract = get_contract(ctx.tenant, outcome.contract_id)
    for key in MATCH_FIELDS:
        data.pop(key, None)


register(ProcedureKind(
    "move_out", "水道の使用中止", MoveOutSchema, allows_anonymous=True, needs_contract=True, check=check, csv_columns=COLUMNS,
    order=20,
    description="引越しなどで水道の使用をやめるときのお申込みです。最終料金の精算方法もお選びいただけます。",
))
