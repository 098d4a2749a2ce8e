"""Contract matching: normalisation, mismatch reasons, city scoping and throttles."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from waterportal.contracts import services
from waterportal.contracts.models import MemberContract
from waterportal.contracts.services import (
    KANA_MISMATCH,
    NUMBER_UNKNOWN,
    PHONE_MISMATCH,
    link_contract,
    match_contract,
    throttle_message,
)
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NUMBER = "00123456789"


@pytest.fixture
def contract_id(make_contract, nayoro):
    return make_contract(nayoro, customer_number=NUMBER, phone="0165432111", holder_name_kana="スイドウタロウ")


@pytest.fixture
def match(app, nayoro, clock):
    """``match(number, phone, kana, tenant=nayoro, requester=..., remote_addr=...)``."""

    def run(number, phone="0165432111", kana="スイドウタロウ", tenant=nayoro, requester="draft:1", remote_addr=""):
        with app.app_context(), tenant_context(tenant):
            return match_contract(tenant, number, phone, kana, requester=requester, remote_addr=remote_addr)

    return run


@pytest.mark.parametrize(
    ("number", "phone", "kana"),
    [
        (NUMBER, "0165432111", "スイドウタロウ"),
        ("００１２３４５６７８９", "０１６５４３２１１１", "スイドウタロウ"),  # full-width digits
        ("001-2345-6789", "01654-3-2111", "スイドウ タロウ"),  # hyphens, a space
        ("001ー2345－6789", "0165‐43‐2111", "すいどう　たろう"),  # long-vowel mark and dashes, hiragana
        (" 00123456789 ", "0165432111", "ｽｲﾄﾞｳ ﾀﾛｳ"),  # half-width katakana with a voiced mark
    ],
)
def test_normalised_input_matches(match, contract_id, number, phone, kana):
    outcome = match(number, phone, kana)
    assert outcome.matched and outcome.contract_id == contract_id and outcome.reasons == ()


@pytest.mark.parametrize(
    ("number", "phone", "kana", "reasons"),
    [
        ("99999999999", "0165432111", "スイドウタロウ", (NUMBER_UNKNOWN,)),
        (NUMBER, "0165432112", "スイドウタロウ", (PHONE_MISMATCH,)),
        (NUMBER, "0165432111", "スイドウジロウ", (KANA_MISMATCH,)),
        (NUMBER, "0000000000", "スイドウジロウ", (PHONE_MISMATCH, KANA_MISMATCH)),
    ],
)
def test_mismatch_reasons(match, contract_id, number, phone, kana, reasons):
    outcome = match(number, phone, kana)
    assert not outcome.matched and outcome.reasons == reasons and not outcome.throttled


def test_reason_wording():
    assert services.REASON_TEXT == {
        NUMBER_UNKNOWN: "・お客様番号が存在しません。",
        PHONE_MISMATCH: "・電話番号が登録内容と一致しません。",
        KANA_MISMATCH: "・お客様氏名カナが登録内容と一致しません。",
    }
    assert services.NOT_FOUND == "該当する契約が見つかりませんでした。入力内容をご確認ください。"


def test_only_this_citys_contracts_match(match, make_contract, nayoro, kanazawa):
    kanazawa_id = make_contract(kanazawa, customer_number=NUMBER, phone="0762202111", holder_name_kana="カナザワハナコ")
    assert match(NUMBER, "0762202111", "カナザワハナコ").reasons == (NUMBER_UNKNOWN,)
    nayoro_id = make_contract(nayoro, customer_number=NUMBER)
    assert match(NUMBER).contract_id == nayoro_id
    assert match(NUMBER, "0762202111", "カナザワハナコ", tenant=kanazawa).contract_id == kanazawa_id
    assert match(NUMBER, tenant=kanazawa).reasons == (PHONE_MISMATCH, KANA_MISMATCH)


def test_five_tries_per_customer_number_per_quarter_hour(match, contract_id, clock):
    for n in range(5):
        assert not match(NUMBER, phone="0000000000", requester=f"draft:{n}").throttled
    refused = match(NUMBER, requester="draft:99")  # even the right details are not looked up
    assert refused.throttled and not refused.matched and refused.retry_after == 15 * 60
    assert throttle_message(refused.retry_after) == (
        "お客様番号の照合が短時間に繰り返されたため、一時的に受け付けを停止しています。15分後に再度お試しください。"
    )
    assert not match("99999999999", requester="draft:98").throttled  # another number is unaffected
    clock.shift(minutes=14)
    assert match(NUMBER, requester="draft:97").retry_after == 60
    clock.shift(minutes=1, seconds=1)
    assert match(NUMBER, requester="draft:96").matched


def test_ten_tries_per_registration_per_hour(match, contract_id, clock):
    for n in range(10):
        assert not match(f"{n:011d}", requester="draft:7").throttled
    refused = match(NUMBER, requester="draft:7")
    assert refused.throttled and refused.retry_after == 3600
    assert throttle_message(refused.retry_after).endswith("60分後に再度お試しください。")
    assert match(NUMBER, requester="draft:8").matched
    clock.shift(hours=1, seconds=1)
    assert match(NUMBER, requester="draft:7").matched


def test_thirty_tries_per_address_per_hour(match, contract_id):
    for n in range(30):
        assert not match(f"{n:011d}", requester=f"draft:{n}", remote_addr="203.0.113.9").throttled
    assert match(NUMBER, requester="draft:31", remote_addr="203.0.113.9").throttled
    assert match(NUMBER, requester="draft:32", remote_addr="203.0.113.10").matched


def test_throttles_are_per_city(match, contract_id, make_contract, kanazawa):
    for n in range(5):
        match(NUMBER, phone="0000000000", requester=f"draft:{n}")
    assert match(NUMBER, requester="draft:50").throttled
    make_contract(kanazawa, customer_number=NUMBER)
    assert match(NUMBER, tenant=kanazawa, requester="draft:50").matched


def test_throttle_message_rounds_up_to_minutes():
    assert "1分後" in throttle_message(1)
    assert "2分後" in throttle_message(61)


def test_link_contract_is_idempotent(app, nayoro, contract_id, make_member):
    member_id = make_member(nayoro)
    with app.app_context(), tenant_context(nayoro):
        first = link_contract(nayoro, member_id, contract_id, label="自宅")
        again = link_contract(nayoro, member_id, contract_id)
        assert first.id == again.id
        assert len(db.session.scalars(select(MemberContract)).all()) == 1
