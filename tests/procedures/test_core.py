"""The core of 各種お手続き, through the service: business-day windows (holidays, the
year-end closure, the horizon), validation messages, duplicates, 受付番号 (also under
concurrency), the status history with its mails, resubmission, withdrawal, masking and
the anonymous 使用中止 matched like registration."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from tests.admin.test_live_settings import two_workers  # noqa: F401 (the fixture)
from tests.clock import JST
from tests.concurrency import at_once
from waterportal.audit.models import AuditEntry
from waterportal.contracts.models import Contract
from waterportal.contracts.services import link_contract
from waterportal.core.auth.secret_box import SealError
from waterportal.core.database import writing_transactions
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import dates, services
from waterportal.procedures.kinds import KINDS, ProcedureInvalid, load_catalog
from waterportal.procedures.models import ProcedureEvent, ProcedureRequest
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.schemas import PROCEDURE_KINDS

CITIES = ["nayoro", "kanazawa"]
PHONES = {"nayoro": "0165432111", "kanazawa": "0762202111"}


@pytest.fixture(params=CITIES)
def tenant(request, nayoro, kanazawa):
    return {"nayoro": nayoro, "kanazawa": kanazawa}[request.param]


def configured(tenant, section: str = "procedures", **values):
    """``tenant`` with some settings of ``section`` replaced (the service reads them)."""
    settings = dict(tenant.settings)
    settings[section] = {**dict(tenant.settings[section]), **values}
    return dataclasses.replace(tenant, settings=settings)


def move_in(**overrides) -> dict:
    data = {
        "address": "西4条南1丁目1番地", "building": "ポータルハイツ", "room": "203", "start_date": "2026-11-25",
        "name": "水道 花子", "name_kana": "すいどう はなこ", "phone": "090-1234-5678", "persons": "2",
        "billing_address": "", "payment": "口座振替", "remarks": "",
    }
    data.update(overrides)
    return data


def move_out(**overrides) -> dict:
    data = {"stop_date": "2026-11-30", "final_address": "札幌市中央区北1条西2丁目", "final_payment": "転居先に納付書を送ってもらう",
            "contact_phone": "09012345678", "meter_access": "玄関横のボックス内"}
    data.update(overrides)
    return data


def invalid(call) -> dict[str, list[str]]:
    with pytest.raises(ProcedureInvalid) as caught:
        call()
    return caught.value.errors


def test_every_kind_a_city_may_enable_is_registered_and_both_demo_cities_offer_them(nayoro, kanazawa):
    assert set(load_catalog()) == set(PROCEDURE_KINDS)  # the keys a city may enable are exactly the kinds
    assert list(nayoro.settings["procedures"]["enabled"]) == list(PROCEDURE_KINDS)
    assert set(kanazawa.settings["procedures"]["enabled"]) == set(PROCEDURE_KINDS) - {"paperless"}
    assert KINDS["move_in"].allows_anonymous and not KINDS["move_in"].needs_contract
    assert KINDS["move_out"].allows_anonymous and KINDS["move_out"].needs_contract
    assert [header for header, _ in KINDS["move_out"].columns()] == [
        "使用中止日", "最終料金の請求書の送付先(転居先の住所)", "最終料金のお支払い方法", "連絡先の電話番号",
        "メーターの場所・立会いについて",
    ]
    assert [header for header, _ in KINDS["move_in"].columns()][:4] == ["使用場所の住所", "建物名", "部屋番号", "使用開始日"]


# --- dates -----------------------------------------------------------------------------------

def test_the_window_skips_weekends_and_national_holidays(app, nayoro):
    # Wednesday 2026-11-18; three business days: Thu 19, Fri 20, (Sat, Sun, Mon 23 勤労感謝の日) Tue 24.
    window = dates.date_window(configured(nayoro, lead_business_days=3, horizon_days=30), dt.date(2026, 11, 18))
    assert (window.earliest, window.latest) == (dt.date(2026, 11, 24), dt.date(2026, 12, 18))
    assert window.allows(dt.date(2026, 11, 24)) and window.allows(dt.date(2026, 12, 18))
    for refused in (dt.date(2026, 11, 20), dt.date(2026, 11, 23), dt.date(2026, 11, 28), dt.date(2026, 12, 19),
                    dt.date(2026, 12, 21)):
        assert not window.allows(refused), refused
    assert window.message() == ("2026年11月24日(火)から2026年12月18日(金)までの営業日(土日・祝日・休業日を除く)"
                                "を指定してください。")


def test_the_year_end_closure_is_skipped_and_is_the_citys_setting(app, nayoro):
    # Thursday 2026-12-24: Fri 25, Mon 28, then 12-29..01-03 closed: Mon 2027-01-04 is the third.
    city = configured(nayoro, lead_business_days=3, horizon_days=30)
    window = dates.date_window(city, dt.date(2026, 12, 24))
    assert window.earliest == dt.date(2027, 1, 4)
    assert not window.allows(dt.date(2026, 12, 30))
    without_closure = configured(city, "calendar", closure_days=[])
    assert dates.date_window(without_closure, dt.date(2026, 12, 24)).earliest == dt.date(2026, 12, 29)
    assert "2027年1月4日(月)から" in window.message()


def test_a_date_outside_the_window_is_refused_at_its_field_naming_the_window(app, tenant):
    with app.test_request_context(), tenant_context(tenant):
        window = dates.date_window(tenant)
        errors = invalid(lambda: services.submit_procedure(tenant, "move_in", move_in(start_date="2026-11-19"),
                                                           email="hanako@example.jp"))
        assert errors == {"start_date": [window.message()]}
        errors = invalid(lambda: services.submit_procedure(
            tenant, "move_in", move_in(start_date="2026-13-01", name="", name_kana="ＡＢＣ", phone="12", persons="0",
                                       payment=""),
            email="hanako@example.jp"))
        assert errors["start_date"] == ["使用開始日は 2026-12-04 の形式で、正しい日付を入力してください。"]
        assert errors["name"] == ["契約者のお名前を入力してください。"]
        assert errors["name_kana"] == ["契約者のお名前(フリガナ)はカタカナで入力してください。"]
        assert errors["phone"] == ["電話番号は0から始まる10桁または11桁の数字で入力してください。"]
        assert errors["persons"] == ["世帯人数は1から20までの数字で入力してください。"]
        assert errors["payment"] == ["お支払い方法のご希望を選択してください。"]
        assert db.session.scalar(select(func.count(ProcedureRequest.id))) == 0


# --- filing, duplicates, numbers -------------------------------------------------------------

def test_move_in_without_an_account_is_stored_numbered_audited_and_acknowledged(app, tenant):
    with app.test_request_context(), tenant_context(tenant):
        filed = services.submit_procedure(tenant, "move_in", move_in(), email="Hanako@Example.jp", remote_addr="192.0.2.9")
        assert filed.receipt_number == "R2026-000001" and filed.status == "received" and not filed.duplicate
        assert (filed.member_id, filed.contract_id, filed.applicant_email) == (None, None, "hanako@example.jp")
        assert (filed.applicant_name, filed.applicant_kana) == ("水道 花子", "スイドウハナコ")
        assert filed.payload["start_date"] == "2026-11-25" and filed.payload["persons"] == 2
        assert filed.payload["phone"] == "09012345678"
        events = services.history(tenant, filed)
        assert [(e.status, e.actor_kind, e.actor_id) for e in events] == [("received", "applicant", None)]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "procedure.submitted"))
        assert (entry.actor, entry.target, entry.remote_addr) == ("anonymous", f"procedure:{filed.id}", "192.0.2.9")
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "procedure_received"))
        assert mail.to_address == "hanako@example.jp"
        assert "水道の使用開始のお申込みを受け付けました" in mail.subject
        assert "受付番号: R2026-000001" in mail.body and "使用開始日: 2026-11-25" in mail.body
        assert "【今後の流れ】" in mail.body
        sender = tenant.settings["mail"]["sender_address"]
        assert sender in mail.sender


def test_an_identical_submission_within_minutes_returns_the_first(app, nayoro, clock):
    city = configured(nayoro, duplicate_window_minutes=10)
    with app.test_request_context(), tenant_context(city):
        first = services.submit_procedure(city, "move_in", move_in(), email="hanako@example.jp")
        clock.shift(minutes=9)
        again = services.submit_procedure(city, "move_in", move_in(), email="hanako@example.jp")
        assert again.id == first.id and again.duplicate
        other = services.submit_procedure(city, "move_in", move_in(room="204"), email="hanako@example.jp")
        assert other.id != first.id
        clock.shift(minutes=2)
        later = services.submit_procedure(city, "move_in", move_in(), email="hanako@example.jp")
        assert later.id not in (first.id, other.id) and not later.duplicate
        assert [r.receipt_number for r in db.session.scalars(select(ProcedureRequest).order_by(ProcedureRequest.id))] \
            == ["R2026-000001", "R2026-000002", "R2026-000003"]
        assert db.session.scalar(select(func.count(OutboxMessage.id))
                                 .where(OutboxMessage.kind == "procedure_received")) == 3


def test_numbers_run_per_city_and_start_again_each_year(app, nayoro, kanazawa, clock):
    with app.test_request_context():
        for city in (nayoro, kanazawa):
            with tenant_context(city):
                assert services.allocate_receipt_number(city, 2026) == "R2026-000001"
        with tenant_context(nayoro):
            assert services.allocate_receipt_number(nayoro, 2026) == "R2026-000002"
            assert services.allocate_receipt_number(nayoro, 2027) == "R2027-000001"
        clock.move_to(dt.datetime(2027, 1, 5, 9, 0, tzinfo=JST))
        with tenant_context(nayoro):
            filed = services.submit_procedure(nayoro, "move_in", move_in(start_date="2027-01-08"), email="a@example.jp")
            assert filed.receipt_number == "R2027-000002"


@pytest.mark.real_commits
def test_receipt_numbers_stay_unique_when_submissions_come_at_once(two_workers):  # noqa: F811
    apps, per_thread = list(two_workers) * 2, 5

    def allocate(app):
        city = get_registry().by_slug("nayoro")
        numbers = []
        for _ in range(per_thread):  # as a POST does: a writing transaction (BEGIN IMMEDIATE on SQLite)
            with tenant_context(city), writing_transactions():
                numbers.append(services.allocate_receipt_number(city, 2026))
                db.session.commit()
        return numbers

    numbers = [number for numbers in at_once(apps, allocate) for number in numbers]
    assert sorted(numbers) == [f"R2026-{n:06d}" for n in range(1, len(apps) * per_thread + 1)]


@pytest.mark.real_commits
def test_a_double_click_stores_one_request_and_sends_one_mail(two_workers):  # noqa: F811
    """Two identical submissions at the same moment (a double-clicked 申し込む, each POST on
    its own worker): the second waits for the first's commit and returns it as a duplicate.
    Each transaction stays open a moment after its check, so without the wait both checks
    would find nothing and both would store and mail."""
    def submit(app):
        city = get_registry().by_slug("nayoro")
        with app.test_request_context(method="POST"), tenant_context(city), writing_transactions():
            filed = services.submit_procedure(city, "move_in", move_in(), email="hanako@example.jp")
            time.sleep(0.3)
            db.session.commit()
            return filed.receipt_number, filed.duplicate

    results = at_once(list(two_workers), submit)
    assert sorted(results) == [("R2026-000001", False), ("R2026-000001", True)]
    with two_workers[0].app_context(), tenant_context(get_registry().by_slug("nayoro")):
        assert db.session.scalar(select(func.count(ProcedureRequest.id))) == 1
        assert db.session.scalar(select(func.count(OutboxMessage.id))
                                 .where(OutboxMessage.kind == "procedure_received")) == 1


# --- status history ----------------------------------------------------------------------------

def test_status_changes_are_recorded_audited_and_mailed_and_a_return_can_be_resubmitted(app, tenant, make_member):
    member_id = make_member(tenant, email="taro@example.jp")
    with app.test_request_context(), tenant_context(tenant):
        from waterportal.accounts.models import Member

        member = db.session.get(Member, member_id)
        filed = services.submit_procedure(tenant, "move_in", move_in(), member=member)
        assert filed.applicant_email == "taro@example.jp"
        with pytest.raises(ProcedureInvalid):
            services.change_status(tenant, filed, "returned", "  ", "staff:1")
        services.change_status(tenant, filed, "returned", "建物名と部屋番号をご確認ください。", "staff:1", remote_addr="198.51.100.1")
        with pytest.raises(services.ProcedureStateError):
            services.change_status(tenant, filed, "completed", "", "staff:1")
        status_mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "procedure_status")).all()
        assert len(status_mail) == 1 and status_mail[0].to_address == "taro@example.jp"
        assert "差戻し" in status_mail[0].subject and "建物名と部屋番号をご確認ください。" in status_mail[0].body
        assert f"/procedures/{filed.receipt_number}" in status_mail[0].body

        errors = invalid(lambda: services.resubmit(tenant, filed, move_in(start_date="2026-11-01"), member=member))
        assert list(errors) == ["start_date"] and filed.status == "returned"
        services.resubmit(tenant, filed, move_in(room="305"), member=member, message="部屋番号を直しました。")
        assert filed.status == "received" and filed.payload["room"] == "305"
        services.change_status(tenant, filed, "in_progress", "", "staff:1")
        services.change_status(tenant, filed, "completed", "開栓しました。", "staff:1")
        assert [(e.status, e.actor_kind, e.message) for e in services.history(tenant, filed)] == [
            ("received", "applicant", ""), ("returned", "staff", "建物名と部屋番号をご確認ください。"),
            ("received", "applicant", "部屋番号を直しました。"), ("in_progress", "staff", ""),
            ("completed", "staff", "開栓しました。"),
        ]
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"procedure:{filed.id}")
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["procedure.submitted", "procedure.status", "procedure.resubmitted", "procedure.status",
                           "procedure.status"]
        kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == ["procedure_received", "procedure_status", "procedure_received", "procedure_status",
                         "procedure_status"]
        with pytest.raises(services.ProcedureStateError):
            services.withdraw(tenant, filed, member)


def test_a_member_withdraws_an_open_request_and_nobody_else_can(app, nayoro, make_member):
    owner_id, other_id = make_member(nayoro, email="a@example.jp"), make_member(nayoro, email="b@example.jp")
    with app.test_request_context(), tenant_context(nayoro):
        from waterportal.accounts.models import Member

        owner, other = db.session.get(Member, owner_id), db.session.get(Member, other_id)
        filed = services.submit_procedure(nayoro, "move_in", move_in(), member=owner)
        with pytest.raises(services.ProcedureUnavailable):
            services.withdraw(nayoro, filed, other)
        services.withdraw(nayoro, filed, owner)
        assert filed.status == "withdrawn"
        last = db.session.scalar(select(ProcedureEvent).order_by(ProcedureEvent.id.desc()).limit(1))
        assert (last.status, last.actor_kind, last.actor_id) == ("withdrawn", "applicant", owner_id)
        assert services.get_for_member(nayoro, other, filed.receipt_number) is None
        assert services.get_for_member(nayoro, owner, filed.receipt_number).id == filed.id


# --- masking and encryption ---------------------------------------------------------------------

def test_mask_keeps_the_last_three_characters_and_fields_round_trip_encrypted(app):
    assert services.mask("1234567") == "****567"
    assert services.mask("12") == "**" and services.mask("") == ""
    with app.app_context():
        sealed = services.encrypt_field("1234567")
        assert "1234567" not in sealed and services.decrypt_field(sealed) == "1234567"
        with pytest.raises(SealError):
            services.decrypt_field("not-a-token")


# --- anonymous 使用中止 -----------------------------------------------------------------------------

def test_move_out_without_an_account_is_matched_like_registration_and_throttled(app, tenant, make_contract):
    contract_id = make_contract(tenant, phone=PHONES[tenant.slug])
    with app.test_request_context(), tenant_context(tenant):
        contract = db.session.get(Contract, contract_id)
        ids = {"customer_number": contract.customer_number, "registered_phone": PHONES[tenant.slug],
               "holder_kana": "すいどう たろう"}
        errors = invalid(lambda: services.submit_procedure(tenant, "move_out", move_out(), email="t@example.jp"))
        # The portal's texts say the city's word (名寄: お客様番号, 金沢: お客さま番号).
        word = tenant.settings["registration"]["customer_number_label"]
        assert errors["customer_number"] == [f"{word}を入力してください。"]
        assert errors["registered_phone"] == ["ご登録の電話番号を入力してください。"]
        errors = invalid(lambda: services.submit_procedure(
            tenant, "move_out", move_out(**{**ids, "registered_phone": "0120000000"}), email="t@example.jp"))
        assert errors == {"customer_number": ["該当する契約が見つかりませんでした。入力内容をご確認ください。",
                                              "・電話番号が登録内容と一致しません。"]}
        filed = services.submit_procedure(tenant, "move_out", move_out(**ids), email="t@example.jp")
        assert (filed.contract_id, filed.customer_number) == (contract.id, contract.customer_number)
        assert (filed.applicant_name, filed.applicant_kana) == ("水道 太郎", "スイドウタロウ")
        assert not {"customer_number", "registered_phone", "holder_kana"} & set(filed.payload)
        # registration's throttle per お客様番号: 5 attempts per 15 minutes, then a wait is named
        for _ in range(3):
            invalid(lambda: services.submit_procedure(
                tenant, "move_out", move_out(**{**ids, "holder_kana": "ベツジン"}), email="x@example.jp"))
        errors = invalid(lambda: services.submit_procedure(tenant, "move_out", move_out(**ids), email="y@example.jp"))
        assert errors["_form"][0].startswith(f"{word}の照合が短時間に繰り返されたため")


def test_a_member_files_move_out_for_a_linked_contract_only(app, nayoro, make_member, make_contract):
    mine, theirs = make_contract(nayoro), make_contract(nayoro)
    member_id = make_member(nayoro)
    with app.test_request_context(), tenant_context(nayoro):
        from waterportal.accounts.models import Member

        link_contract(nayoro, member_id, mine)
        member = db.session.get(Member, member_id)
        with pytest.raises(services.ProcedureUnavailable):
            services.submit_procedure(nayoro, "move_out", move_out(), member=member,
                                      contract=db.session.get(Contract, theirs))
        filed = services.submit_procedure(nayoro, "move_out", move_out(), member=member,
                                          contract=db.session.get(Contract, mine))
        assert filed.contract_id == mine and filed.member_id == member_id
        assert services.list_for_member(nayoro, member) == [filed]


def test_a_kind_the_city_switched_off_is_unavailable(app, nayoro):
    city = configured(nayoro, enabled=["move_out"])
    with app.test_request_context(), tenant_context(city):
        with pytest.raises(services.ProcedureUnavailable):
            services.submit_procedure(city, "move_in", move_in(), email="a@example.jp")
        assert [k.key for k in services.enabled_kinds(city)] == ["move_out"]
