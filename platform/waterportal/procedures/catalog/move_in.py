"""水道の使用開始 (moving in): open to anyone, no account needed (a new resident has no
お客様番号 yet); the email is verified with the platform's 6-digit code first."""
from __future__ import annotations

from marshmallow import Schema

from waterportal.procedures.fields import Choice, Count, Day, Kana, Phone, Text
from waterportal.procedures.kinds import ProcedureKind, register

PAYMENT_WISHES = ("口座振替", "納付書(金融機関・コンビニエンスストア)", "未定(窓口に相談する)")


class MoveInSchema(Schema):
    address = Text("使用場所の住所", max_length=200)
    building = Text("建物名", required=False, max_length=100)
    room = Text("部屋番号", required=False, max_length=20)
    # inside the city's window (lead business days, horizon, no closed day)
    start_date = Day("使用開始日", window=True)
    name = Text("契約者のお名前", max_length=50)
    name_kana = Kana("契約者のお名前(フリガナ)", max_length=50)
    phone = Phone("電話番号")
    persons = Count("世帯人数", 1, 20)
    billing_address = Text("請求書の送付先(使用場所と異なる場合)", required=False, max_length=200)
    payment = Choice("お支払い方法のご希望", PAYMENT_WISHES)
    remarks = Text("連絡事項", required=False, max_length=500, multiline=True)


register(ProcedureKind(
    "move_in", "水道の使用開始", MoveInSchema, allows_anonymous=True, order=10,
    description="引越しなどで、新しく水道を使い始めるときのお申込みです。お客様番号がなくても申し込めます。",
))
