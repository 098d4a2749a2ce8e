"""減免申請 and 漏水減額申請 through the services: every field rule, the city's list of
reduction kinds, months, attachments (required, checked, stored) and the receipt rows."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from tests.procedures import files
from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.procedures import services
from waterportal.procedures.attachments import Upload
from waterportal.procedures.kinds import ProcedureInvalid
from waterportal.procedures.models import ProcedureAttachment
from waterportal.procedures.reductions import Month
from waterportal.tenancy.context import tenant_context

TODAY = dt.date(2026, 11, 18)  # tests/clock.py: Wednesday 2026-11-18 in both cities

REDUCTION = {
    "reduction_kind": "生活保護世帯", "beneficiary_name": "水道 太郎", "certificate_number": "A-1234567",
    "start_month": "2026-12", "phone": "0165-43-2111", "note": "",
}
LEAK = {
    "leak_location": "建物の床下・壁の中の給水管", "leak_detail": "台所の床下", "noticed_on": "2026-10-20",
    "repaired_on": "2026-10-25", "repairer_name": "名寄管工株式会社", "repairer_phone": "01654-2-0000",
    "first_month": "2026-09", "last_month": "2026-10", "phone": "0165432111", "note": "",
}


@pytest.fixture
def member_of(app, make_member, make_contract):
    """``member_of(city)`` -> (member id, contract id): a member with one linked contract."""

    def make(city):
        contract_id = make_contract(city)
        member_id = make_member(city, email=f"gen{contract_id}@example.jp", data_visible_from=dt.date(2020, 1, 1))
        with app.app_context(), tenant_context(city):
            db.session.add(MemberContract(member_id=member_id, contract_id=contract_id, label="自宅"))
            db.session.commit()
        return member_id, contract_id

    return make


@pytest.fixture
def filer(app, member_of):
    """``with filer(city) as (member, contract):`` inside the city, a member with a linked contract."""

    @contextlib.contextmanager
    def enter(city):
        member_id, contract_id = member_of(city)
        with app.app_context(), tenant_context(city):
            yield db.session.get(Member, member_id), db.session.get(Contract, contract_id)

    return enter


def file(city, member, contract, kind: str = "leak_reduction", payload=None, uploads=()):
    return services.submit_procedure(city, kind, payload or LEAK, member=member, contract=contract,
                                     attachments=uploads, today=TODAY)


@pytest.fixture
def submit(filer):
    """``submit(city, kind, payload, uploads=())`` -> the request (its id, number, rows, files)
    or the ProcedureInvalid raised."""

    def run(city, kind, payload, uploads=()):
        with filer(city) as (member, contract):
            try:
                request = file(city, member, contract, kind, payload, uploads)
            except ProcedureInvalid as invalid:
                db.session.rollback()
                return invalid
            db.session.commit()
            stored = db.session.scalars(select(ProcedureAttachment).where(
                ProcedureAttachment.request_id == request.id).order_by(ProcedureAttachment.id)).all()
            return {"id": request.id, "number": request.receipt_number, "payload": dict(request.payload),
                    "rows": services.summary(city, request), "duplicate": request.duplicate,
                    "files": [(f.filename, f.content_type, f.size, f.sha256, f.data) for f in stored]}

    return run


def errors(result) -> dict[str, list[str]]:
    assert isinstance(result, ProcedureInvalid), result
    return result.errors


def receipt() -> Upload:
    return Upload("領収書.pdf", "application/pdf", files.pdf("修理代金 領収書"))


def photo() -> Upload:
    return Upload("IMG_0001.JPG", "image/jpeg", files.jpeg())


# --- 減免申請 -----------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_a_reduction_of_the_citys_list_is_filed_with_its_certificate_masked(request, submit, slug):
    city = request.getfixturevalue(slug)
    result = submit(city, "reduction", REDUCTION, [Upload("証明書.png", "image/png", files.png())])
    assert result["number"].startswith("R2026-")
    assert result["payload"]["certificate_number"] != "A-1234567"  # encrypted at rest
    assert services.decrypt_field(result["payload"]["certificate_number"]) == "A-1234567"
    rows = dict(result["rows"])
    assert rows["減免の種類"] == "生活保護世帯"
    assert rows["受給者証・手帳などの番号"].endswith("567") and "1234" not in rows["受給者証・手帳などの番号"]
    assert rows["減免を希望する開始月"] == "2026年12月分から"
    assert rows["日中の連絡先電話番号"] == "0165432111"
    assert [f[:2] for f in result["files"]] == [("証明書.png", "image/png")]


def test_a_reduction_kind_the_city_does_not_list_is_refused(nayoro, kanazawa, submit):
    only_kanazawa = {**REDUCTION, "reduction_kind": "社会福祉施設"}
    assert errors(submit(nayoro, "reduction", only_kanazawa)) == {"reduction_kind": ["減免の種類を選択肢から選んでください。"]}
    assert "id" in submit(kanazawa, "reduction", only_kanazawa)


def test_a_city_without_reduction_kinds_says_to_ask_the_counter(nayoro, submit):
    settings = {**nayoro.settings, "procedures": {**nayoro.settings["procedures"], "reduction_kinds": []}}
    bare = dataclasses.replace(nayoro, settings=settings)
    assert "窓口へお問い合わせください" in errors(submit(bare, "reduction", REDUCTION))["reduction_kind"][0]


@pytest.mark.parametrize("month, ok", [
    ("2026-11", True), ("2027-05", True), ("2026年12月", True), ("２０２７/０１", True),
    ("2026-10", False), ("2027-06", False),
])
def test_the_start_month_is_this_month_to_six_months_ahead(nayoro, submit, month, ok):
    result = submit(nayoro, "reduction", {**REDUCTION, "start_month": month})
    if ok:
        assert "id" in result
    else:
        assert errors(result) == {"start_month": ["減免を希望する開始月は2026年11月から2027年5月までの月を指定してください。"]}


def test_every_missing_reduction_field_is_named_at_once(nayoro, submit):
    found = errors(submit(nayoro, "reduction", {"reduction_kind": "", "start_month": "13月", "phone": "12"}))
    assert found["reduction_kind"] == ["減免の種類を入力してください。"]
    assert found["beneficiary_name"] == ["対象となる方のお名前を入力してください。"]
    assert found["start_month"] == ["減免を希望する開始月は 2026-10 の形式で、正しい年月を入力してください。"]
    assert "電話番号" in found["phone"][0]
    assert "certificate_number" not in found and "note" not in found  # optional


def test_the_month_field_reads_what_citizens_type():
    month = Month("月")
    assert [month.deserialize(v) for v in ("2026-1", "2026/01", "2026年1月分", "2026.01")] == ["2026-01"] * 4
    for bad in ("2026-13", "26-01", "abc", "2026-00"):
        with pytest.raises(Exception, match="2026-10 の形式"):
            month.deserialize(bad)


# --- 漏水減額申請 ---------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_a_leak_reduction_is_filed_with_its_receipt_and_photo(request, submit, slug):
    city = request.getfixturevalue(slug)
    sent = [receipt(), photo()]
    result = submit(city, "leak_reduction", LEAK, sent)
    assert [(name, ctype, size, sha) for name, ctype, size, sha, _ in result["files"]] == [
        ("領収書.pdf", "application/pdf", len(sent[0].data), hashlib.sha256(sent[0].data).hexdigest()),
        ("IMG_0001.JPG", "image/jpeg", len(sent[1].data), hashlib.sha256(sent[1].data).hexdigest()),
    ]
    assert result["files"][0][4] == sent[0].data
    rows = dict(result["rows"])
    assert rows["漏水に気付いた日"] == "2026年10月20日"
    assert rows["減額を希望する請求月(始め)"] == "2026年9月分"
    assert rows["修理した事業者(指定給水装置工事事業者)"] == "名寄管工株式会社"
    assert result["payload"]["repairer_phone"] == "0165420000"
    assert result["payload"]["noticed_on"] == "2026-10-20"


def test_a_leak_reduction_needs_at_least_one_file(nayoro, submit):
    assert errors(submit(nayoro, "leak_reduction", LEAK)) == {
        "attachments": ["ファイルを添付してください(修理の領収書、修理箇所の写真など)。"]}


def test_attachments_over_the_citys_limits_are_refused_naming_them(nayoro, submit):
    limits = nayoro.settings["procedures"]
    too_many = [photo() for _ in range(limits["attachment_max_files"] + 1)]
    assert errors(submit(nayoro, "leak_reduction", LEAK, too_many))["attachments"] == [
        f"添付できるファイルは {limits['attachment_max_files']} 件までです({len(too_many)} 件選択されています)。"]
    big = Upload("big.jpg", "image/jpeg", files.jpeg() + b"\0" * (limits["attachment_max_mb"] * 1024 * 1024))
    svg = Upload("receipt.pdf", "application/pdf", files.SVG)
    assert errors(submit(nayoro, "leak_reduction", LEAK, [big, svg]))["attachments"] == [
        f"「big.jpg」は大きすぎます(1 ファイル {limits['attachment_max_mb']} MB までです)。",
        "「receipt.pdf」は添付できない種類のファイルです。JPEG・PNG の写真か PDF を選択してください。",
    ]


@pytest.mark.parametrize("change, field, words", [
    ({"noticed_on": "2026-11-19"}, "noticed_on", "今日より後"),
    ({"noticed_on": "2025-11-17", "repaired_on": "2025-11-20"}, "noticed_on", "1年以上前"),
    ({"repaired_on": "2026-11-19"}, "repaired_on", "修理が完了してから"),
    ({"repaired_on": "2026-10-19"}, "repaired_on", "漏水に気付いた日以降"),
    ({"first_month": "2025-10"}, "first_month", "2025年11月から2026年11月まで"),
    ({"last_month": "2026-12"}, "last_month", "2025年11月から2026年11月まで"),
    ({"first_month": "2026-10", "last_month": "2026-09"}, "last_month", "同じか後の月"),
    ({"leak_location": "その他", "leak_detail": ""}, "leak_detail", "詳しい場所"),
    ({"leak_location": "蛇口"}, "leak_location", "選択肢から"),
    ({"noticed_on": "2026-02-30"}, "noticed_on", "正しい日付"),
    ({"repairer_name": ""}, "repairer_name", "入力してください"),
])
def test_leak_dates_months_and_place_are_checked(nayoro, submit, change, field, words):
    found = errors(submit(nayoro, "leak_reduction", {**LEAK, **change}, [receipt()]))
    assert list(found) == [field]
    assert words in found[field][0]


def test_the_same_leak_reduction_twice_within_minutes_is_one_request(nayoro, filer):
    with filer(nayoro) as (member, contract):
        first = file(nayoro, member, contract, uploads=[receipt()])
        again = file(nayoro, member, contract, uploads=[receipt()])
        other_file = file(nayoro, member, contract, uploads=[photo()])
        assert again.id == first.id and again.duplicate
        assert other_file.id != first.id
        assert len(services.attachments_of(nayoro, first)) == 1


def test_files_go_to_the_billing_export_as_columns_not_bytes():
    from waterportal.procedures.kinds import get_kind

    assert [h for h, _ in get_kind("leak_reduction").columns()] == [
        "漏水箇所", "漏水箇所詳細", "漏水発見日", "修理完了日", "修理事業者", "修理事業者電話番号",
        "対象請求月始め", "対象請求月終わり", "連絡先電話番号", "補足"]
    assert [h for h, _ in get_kind("reduction").columns()] == [
        "減免種類", "対象者氏名", "証明書番号", "開始希望月", "連絡先電話番号", "補足"]
    assert get_kind("reduction").sensitive == ("certificate_number",)


def test_a_returned_leak_reduction_is_resubmitted_without_new_files_and_may_add_some(nayoro, filer):
    with filer(nayoro) as (member, contract):
        filed = file(nayoro, member, contract, uploads=[receipt()])
        services.change_status(nayoro, filed, "returned", "修理した配管の写真も添付してください。", "staff:1")
        corrected = {**LEAK, "repairer_name": "名寄管工(株)"}
        with pytest.raises(ProcedureInvalid) as refused:
            services.resubmit(nayoro, filed, corrected, member=member, attachments=[Upload("x.gif", "", files.gif())],
                              today=TODAY)
        assert "(GIF 形式)" in refused.value.errors["attachments"][0]
        services.resubmit(nayoro, filed, corrected, member=member, attachments=[photo()], today=TODAY)
        assert filed.status == "received" and filed.payload["repairer_name"] == "名寄管工(株)"
        assert [a.filename for a in services.attachments_of(nayoro, filed)] == ["領収書.pdf", "IMG_0001.JPG"]
        services.change_status(nayoro, filed, "returned", "事業者名をご確認ください。", "staff:1")
        services.resubmit(nayoro, filed, LEAK, member=member, today=TODAY)  # no new file: the two stay
        assert filed.status == "received" and len(services.attachments_of(nayoro, filed)) == 2
