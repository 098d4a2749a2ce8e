"""名義変更 and 送付先変更 for a linked contract: every rule of both kinds."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.procedures.kinds_support import MY_KINDS, file, member_with_contract, with_kinds
from waterportal.procedures import services
from waterportal.procedures.kinds import ProcedureInvalid, get_kind
from waterportal.procedures.services import ProcedureUnavailable

# The suite's clock: Wednesday 2026-11-18. Nayoro's lead is 3 business days: 11-19, 11-20 and,
# past the weekend and 勤労感謝の日 (Monday 11-23), Tuesday 11-24, the earliest allowed date.
EARLIEST = dt.date(2026, 11, 24)
HOLDER = {
    "new_name": "水道　花子", "new_name_kana": "すいどう はなこ", "relationship": "配偶者",
    "reason": "ご家族の間での名義の変更", "reason_detail": "", "effective_date": EARLIEST.isoformat(), "phone": "０１６５-４３-２１１１",
}
ADDRESS = {
    "postal_code": "〒１００－０００１", "prefecture": "東京都", "city": "千代田区", "street": "千代田1-1",
    "building": "  水道ビル　301 ", "recipient": "水道 太郎",
}


@pytest.fixture
def filer(app, nayoro, make_member, make_contract):
    tenant = with_kinds(nayoro, *MY_KINDS)
    with member_with_contract(app, make_member, make_contract, tenant) as (member, contract):
        yield lambda key, payload: file(tenant, key, payload, member, contract), tenant, member, contract


def errors_of(filer, key, payload) -> dict[str, list[str]]:
    with pytest.raises(ProcedureInvalid) as caught:
        filer[0](key, payload)
    return caught.value.errors


def test_holder_change_is_stored_normalised(filer):
    submit, tenant, _, contract = filer
    request = submit("holder_change", HOLDER)
    payload = request.payload
    assert payload["new_name"] == "水道 花子" and payload["new_name_kana"] == "スイドウハナコ"
    assert payload["effective_date"] == "2026-11-24" and payload["phone"] == "0165432111"
    assert request.contract_id == contract.id and request.customer_number == contract.customer_number
    rows = dict(services.summary(tenant, request))
    assert rows["新しいご契約者名"] == "水道 花子" and rows["名義変更日"] == "2026-11-24"


@pytest.mark.parametrize(("day", "allowed"), [
    (dt.date(2026, 11, 20), False),  # inside the lead time
    (dt.date(2026, 11, 23), False),  # 勤労感謝の日
    (EARLIEST, True),
    (dt.date(2026, 11, 28), False),  # Saturday
    (dt.date(2026, 12, 18), True),  # the horizon is 30 days: 12-18 is the last day
    (dt.date(2026, 12, 21), False),  # beyond the horizon
])
def test_holder_change_date_follows_the_city_window(filer, day, allowed):
    payload = {**HOLDER, "effective_date": day.isoformat()}
    if allowed:
        assert filer[0]("holder_change", payload).payload["effective_date"] == day.isoformat()
    else:
        errors = errors_of(filer, "holder_change", payload)
        assert "2026年11月24日" in errors["effective_date"][0]  # the message names the allowed dates


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"new_name": ""}, "new_name", "入力してください"),
    ({"new_name": "x" * 51}, "new_name", "50文字以内"),
    ({"new_name_kana": "Hanako"}, "new_name_kana", "カタカナ"),
    ({"reason": "なんとなく"}, "reason", "選択"),
    ({"reason": "その他", "reason_detail": ""}, "reason_detail", "理由の詳細"),
    ({"effective_date": "2026-13-40"}, "effective_date", "正しい日付"),
    ({"effective_date": ""}, "effective_date", "入力してください"),
    ({"phone": "12345"}, "phone", "10桁または11桁"),
    ({"new_name": "水道 太郎"}, "new_name", "現在のご契約者と同じ"),  # the contract's holder
    ({"relationship": "友人"}, "relationship", "選択"),
    ({"relationship": ""}, "relationship", "選択してください"),
])
def test_holder_change_rules(filer, change, field, words):
    assert words in errors_of(filer, "holder_change", {**HOLDER, **change})[field][0]


def test_the_same_person_may_keep_the_name(filer):
    """同一人 (a new kana reading of the same name) is not refused for having the same name."""
    request = filer[0]("holder_change", {**HOLDER, "relationship": "同一人（改姓・改名）", "new_name": "水道 太郎",
                                         "new_name_kana": "スイドウタロオ"})
    assert request.payload["relationship"] == "同一人（改姓・改名）"


def test_holder_change_with_other_reason_keeps_the_detail(filer):
    request = filer[0]("holder_change", {**HOLDER, "reason": "その他", "reason_detail": "成年後見人の選任"})
    assert request.payload["reason_detail"] == "成年後見人の選任"


def test_billing_address_is_stored_normalised(filer):
    submit, tenant, _, _ = filer
    request = submit("billing_address", ADDRESS)
    payload = request.payload
    assert payload["postal_code"] == "100-0001" and payload["building"] == "水道ビル 301"
    rows = services.summary(tenant, request)
    assert ("郵便番号", "100-0001") in rows and ("宛名", "水道 太郎") in rows


def test_billing_address_without_building(filer):
    request = filer[0]("billing_address", {**ADDRESS, "building": ""})
    assert request.payload["building"] == ""
    assert "建物名・部屋番号" not in dict(services.summary(filer[1], request))


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"postal_code": "123-456"}, "postal_code", "7桁"),
    ({"postal_code": "abcdefg"}, "postal_code", "7桁"),
    ({"postal_code": ""}, "postal_code", "入力してください"),
    ({"prefecture": "東京"}, "prefecture", "選択"),
    ({"city": ""}, "city", "入力してください"),
    ({"street": "x" * 81}, "street", "80文字以内"),
    ({"recipient": ""}, "recipient", "宛名"),
])
def test_billing_address_rules(filer, change, field, words):
    assert words in errors_of(filer, "billing_address", {**ADDRESS, **change})[field][0]


def test_csv_columns_of_both_kinds():
    assert [h for h, _ in get_kind("holder_change").columns()] == [
        "新契約者名", "新契約者名カナ", "現契約者との関係", "変更理由", "理由詳細", "名義変更日", "連絡先電話番号"]
    assert [h for h, _ in get_kind("billing_address").columns()] == [
        "郵便番号", "都道府県", "市区町村", "町名番地", "建物名部屋番号", "宛名"]


def test_a_contract_of_someone_else_or_no_contract_is_refused(app, filer, make_contract):
    submit, tenant, member, _ = filer
    other = make_contract(tenant)
    from waterportal.contracts.models import Contract
    from waterportal.extensions import db

    with pytest.raises(ProcedureUnavailable):
        services.submit_procedure(tenant, "billing_address", ADDRESS, member=member,
                                  contract=db.session.get(Contract, other))
    with pytest.raises(ProcedureInvalid) as caught:
        services.submit_procedure(tenant, "billing_address", ADDRESS, member=member, contract=None)
    assert "_form" in caught.value.errors


def test_a_city_that_does_not_offer_the_kind_refuses_it(filer):
    _, tenant, member, contract = filer
    closed = with_kinds(tenant, "paperless")
    with pytest.raises(ProcedureUnavailable):
        services.submit_procedure(closed, "holder_change", HOLDER, member=member, contract=contract)


def test_export_rows_of_both_kinds(filer):
    from waterportal.procedures import export

    submit, tenant, _, _ = filer
    for key, payload, expected in (
        ("holder_change", HOLDER, ["水道 花子", "スイドウハナコ", "配偶者", "ご家族の間での名義の変更", "", "2026-11-24",
                                    "0165432111"]),
        ("billing_address", ADDRESS, ["100-0001", "東京都", "千代田区", "千代田1-1", "水道ビル 301", "水道 太郎"]),
    ):
        kind = get_kind(key)
        cells = export.row(tenant, kind, submit(key, payload), kind.columns())
        assert cells[len(export.COMMON_COLUMNS):] == expected
