"""The exchange with the billing system: the export (each request once, a range again,
UTF-8 or Shift_JIS, the kind's columns) and the answer (import-status: all or nothing,
line-numbered errors, the citizen's mail, a 使用開始's new contract linked to the citizen)."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest
from sqlalchemy import select

from tests.admin.test_live_settings import two_workers  # noqa: F401 (the fixture)
from tests.concurrency import at_once
from tests.conftest import city
from tests.procedures.staff_support import MOVE_IN, add_request, get_request
from waterportal.admin.procedures_cli import procedures_cli
from waterportal.audit.models import AuditEntry
from waterportal.contracts.models import MemberContract
from waterportal.core.database import writing_transactions
from waterportal.extensions import db
from waterportal.imports.procedure_status import import_status
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import export as exporting
from waterportal.procedures.kinds import get_kind
from waterportal.procedures.models import ProcedureEvent
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def rows(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding))))


def export(app, tenant, kind: str = "move_in", **options) -> exporting.ExportResult:
    with app.app_context(), tenant_context(tenant):
        result = exporting.export_requests(tenant, kind, actor="staff:1", **options)
        db.session.commit()
        return result


def answer(app, tenant, text: str, encoding: str = "utf-8"):
    with app.app_context(), tenant_context(tenant):
        result = import_status(tenant, text.encode(encoding), filename="answer.csv")
        db.session.commit()
        return result


def mails_to(app, tenant, address: str) -> list[OutboxMessage]:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)).all()


# --- export ---------------------------------------------------------------------------------

def test_an_export_writes_each_accepted_request_once(app, nayoro):
    accepted = add_request(app, nayoro, "move_in", "in_progress")
    add_request(app, nayoro, "move_in", "received")  # not checked by staff yet
    add_request(app, nayoro, "move_in", "completed")
    add_request(app, nayoro, "payment_method", "in_progress")  # another kind, another file
    first = export(app, nayoro)
    table = rows(first.body)
    kind = get_kind("move_in")
    assert table[0] == exporting.header(kind)
    assert table[0][:7] == ["受付番号", "手続き", "受付日時", "お客様番号", "申請者氏名", "申請者氏名カナ", "申請者メールアドレス"]
    assert "使用開始日" in table[0] and "世帯人数" in table[0]
    request = get_request(app, nayoro, accepted)
    assert first.receipt_numbers == [request.receipt_number] and len(table) == 2
    assert table[1][:3] == [request.receipt_number, "move_in", "2026-11-17 10:00"]  # city time
    assert table[1][table[0].index("使用開始日")] == "2026-12-01"
    assert request.exported_at is not None and request.export_batch == first.batch
    assert first.filename.startswith("procedures-nayoro-move_in-") and first.body.startswith(b"\xef\xbb\xbf")
    second = export(app, nayoro)
    assert second.count == 0 and rows(second.body) == [exporting.header(kind)]


def test_a_range_is_written_again_only_when_asked(app, nayoro):
    early = add_request(app, nayoro, created_at=dt.datetime(2026, 11, 2, 1, 0))
    late = add_request(app, nayoro, created_at=dt.datetime(2026, 11, 16, 1, 0))
    assert export(app, nayoro).count == 2
    assert export(app, nayoro, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30)).count == 0
    again = export(app, nayoro, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 10), again=True)
    assert again.receipt_numbers == [get_request(app, nayoro, early).receipt_number]
    assert get_request(app, nayoro, early).export_batch == again.batch
    assert get_request(app, nayoro, late).export_batch != again.batch
    # A day boundary is the city's: 2026-11-16 00:30 JST is 11-15 15:30 UTC.
    edge = add_request(app, nayoro, created_at=dt.datetime(2026, 11, 15, 15, 30))
    assert export(app, nayoro, since=dt.date(2026, 11, 16), until=dt.date(2026, 11, 16)).receipt_numbers == [
        get_request(app, nayoro, edge).receipt_number]
    with app.app_context(), tenant_context(nayoro), pytest.raises(exporting.ExportRefused):
        exporting.export_requests(nayoro, "move_in", actor="staff:1", again=True, since=dt.date(2026, 11, 1))
    with app.app_context(), tenant_context(nayoro), pytest.raises(exporting.ExportRefused):
        exporting.export_requests(nayoro, "nai", actor="staff:1")


def test_shift_jis_and_characters_it_cannot_hold(app, nayoro):
    payload = {**MOVE_IN, "remarks": "髙橋 ① 𠮷野家の隣😀", "building": "=HYPERLINK(\"http://x\")"}
    add_request(app, nayoro, payload=payload)
    city = dataclasses.replace(nayoro, settings={
        **nayoro.settings, "procedures": {**nayoro.settings["procedures"], "export_encoding": "shift_jis"}})
    result = export(app, city)
    assert result.encoding == "shift_jis" and result.replaced == 2
    table = rows(result.body, "cp932")
    assert table[1][table[0].index("連絡事項")] == "髙橋 ① 〓野家の隣〓"
    assert table[1][table[0].index("建物名")] == "'=HYPERLINK(\"http://x\")"  # a spreadsheet shows it as text


def test_the_cli_writes_one_file_per_kind_and_marks_them(app, nayoro, runner, tmp_path):
    add_request(app, nayoro, "move_in")
    add_request(app, nayoro, "payment_method")
    out = runner.invoke(procedures_cli, ["export", "--tenant", "nayoro", "--out", str(tmp_path)], obj=None)
    assert out.exit_code == 0, out.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and any("-move_in-" in f for f in files) and any("-payment_method-" in f for f in files)
    # The files hold account numbers in full: readable by their owner only.
    assert {(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()} == {0o600}
    again = runner.invoke(procedures_cli, ["export", "--tenant", "nayoro", "--out", str(tmp_path / "2")])
    assert again.exit_code == 0 and "nothing to export" in again.output
    bad = runner.invoke(procedures_cli, ["export", "--tenant", "nayoro", "--again", "--since", "2026-11-01"])
    assert bad.exit_code != 0 and "--again needs --since and --until" in bad.output
    unknown = runner.invoke(procedures_cli, ["export", "--tenant", "nayoro", "--kind", "nai"])
    assert unknown.exit_code != 0 and "unknown kind" in unknown.output


# --- import-status --------------------------------------------------------------------------

def test_the_answer_completes_a_start_of_use_links_the_contract_and_mails(app, nayoro, make_contract, make_member):
    member_id = make_member(nayoro, email="tennyu@example.jp")
    start = add_request(app, nayoro, "move_in", "in_progress", applicant_email="tennyu@example.jp")
    other = add_request(app, nayoro, "payment_method", "in_progress")
    contract_id = make_contract(nayoro, customer_number="00099988877")
    number = get_request(app, nayoro, start).receipt_number
    other_number = get_request(app, nayoro, other).receipt_number
    text = ("receipt_number,status,message,customer_number\r\n"
            f"{number},完了,お客様番号をお知らせします。,0009-9988-877\r\n"
            f"{other_number},returned,口座名義を確認してください。,\r\n")
    result = answer(app, nayoro, text)
    assert result.ok, result.errors
    assert (result.changed, result.numbered, result.linked) == (2, 1, 1)
    done = get_request(app, nayoro, start)
    assert (done.status, done.customer_number, done.contract_id) == ("completed", "00099988877", contract_id)
    assert get_request(app, nayoro, other).status == "returned"
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(MemberContract.contract_id).where(MemberContract.member_id == member_id)) == contract_id
        events = db.session.scalars(select(ProcedureEvent).where(ProcedureEvent.request_id == start)
                                    .order_by(ProcedureEvent.id)).all()
        assert (events[-1].status, events[-1].actor_kind) == ("completed", "system")
    mail = mails_to(app, nayoro, "tennyu@example.jp")
    assert len(mail) == 1 and "お客様番号をお知らせします。" in mail[0].body
    assert "新しいお客様番号: 00099988877" in mail[0].body  # to register with, or to quote
    assert "新しいお客様番号" not in mails_to(app, nayoro, get_request(app, nayoro, other).applicant_email)[0].body
    # The same file again changes nothing and mails nobody.
    again = answer(app, nayoro, text)
    assert again.ok and (again.changed, again.unchanged, again.linked) == (0, 2, 0)
    assert len(mails_to(app, nayoro, "tennyu@example.jp")) == 1


def test_a_start_of_use_is_linked_when_the_contract_or_the_account_arrives_later(app, nayoro, runner, make_contract,
                                                                                   make_member):
    start = add_request(app, nayoro, "move_in", "in_progress", applicant_email="later@example.jp")
    number = get_request(app, nayoro, start).receipt_number
    assert answer(app, nayoro, f"receipt_number,status,customer_number\n{number},completed,00055544433\n").linked == 0
    make_contract(nayoro, customer_number="00055544433")  # the nightly contracts import
    result = runner.invoke(procedures_cli, ["link-contracts", "--tenant", "nayoro"])
    assert "nayoro: 0 contract(s) linked" in result.output  # no account yet
    member_id = make_member(nayoro, email="later@example.jp")  # registers with the address they filed with
    result = runner.invoke(procedures_cli, ["link-contracts", "--tenant", "nayoro"])
    assert "nayoro: 1 contract(s) linked" in result.output
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(MemberContract.member_id)) == member_id
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "procedure.contract_linked"))
    assert "nayoro: 0 contract(s) linked" in runner.invoke(procedures_cli, ["link-contracts", "--tenant", "nayoro"]).output


def test_every_problem_is_reported_by_line_and_nothing_changes(app, nayoro, kanazawa):
    start = add_request(app, nayoro, "move_in", "in_progress")
    pay = add_request(app, nayoro, "payment_method", "in_progress")
    done = add_request(app, nayoro, "move_in", "completed", customer_number="00011122233")
    foreign = add_request(app, kanazawa, "move_in", "in_progress")
    n = {key: get_request(app, city, rid).receipt_number
         for key, city, rid in (("start", nayoro, start), ("pay", nayoro, pay), ("done", nayoro, done),
                                ("foreign", kanazawa, foreign))}
    text = "\n".join([
        "receipt_number,status,message,customer_number",
        f"{n['pay']},in_progress,,",  # fine on its own: not applied either
        f"{n['start']},returned,,",  # 3: 差戻し without a message
        f"{n['pay']},completed,,",  # 4: twice
        f"{n['done']},in_progress,,",  # 5: 完了 is final
        f"{n['foreign']},completed,,00011122244",  # 6: another city's number here is unknown
        "R2026-999999,completed,,",  # 7: unknown
        f"{n['start']}x,done,,",  # 8: bad status (and unknown number)
        f"{n['pay']}",  # 9: too few columns
        f"{get_request(app, nayoro, start).receipt_number.lower()},completed,,123",  # 10: bad number (dup too)
    ]) + "\n"
    result = answer(app, nayoro, text)
    assert not result.ok
    found = {(p.line, p.column) for p in result.errors}
    assert {(3, "message"), (4, "receipt_number"), (5, "status"), (6, "receipt_number"), (7, "receipt_number"),
            (8, "status"), (9, "-"), (10, "customer_number")} <= found
    messages = " ".join(str(p) for p in result.errors)
    assert "「完了」の申請は「処理中」にできません" in messages and "(2行目と同じ)" in messages
    assert [p.line for p in result.errors] == sorted(p.line for p in result.errors)
    assert get_request(app, nayoro, pay).status == "in_progress"  # line 2 was not applied
    assert get_request(app, nayoro, start).status == "in_progress"
    assert get_request(app, kanazawa, foreign).status == "in_progress"
    assert mails_to(app, nayoro, get_request(app, nayoro, pay).applicant_email) == []


@pytest.mark.parametrize("text, line, column, words", [
    ("receipt_number,message\nR2026-000001,x\n", 1, "status", "必須の列がありません"),
    ("receipt_number,status,extra\n", 1, "extra", "不明な列です"),
    ("receipt_number,status\n", 1, "-", "データ行がありません"),
    ("", 1, "-", "ファイルが空です"),
])
def test_a_file_that_is_not_an_answer_is_refused(app, nayoro, text, line, column, words):
    result = answer(app, nayoro, text)
    assert not result.ok
    assert any(p.line == line and p.column == column and words in p.message for p in result.errors), result.errors


def test_other_rules_of_the_answer(app, nayoro):
    start = add_request(app, nayoro, "move_in", "in_progress")
    numbered = add_request(app, nayoro, "move_in", "in_progress", customer_number="00012312312")
    pay = add_request(app, nayoro, "payment_method", "in_progress")
    n = [get_request(app, nayoro, r).receipt_number for r in (start, numbered, pay)]
    text = ("receipt_number,status,customer_number,message\n"
            f"{n[0]},completed,,\n"  # a 使用開始 needs its number to be completed
            f"{n[1]},completed,00099999999,\n"  # it has another number already
            f"{n[2]},completed,00012312312,\n")  # only a 使用開始 gets a number
    result = answer(app, nayoro, text)
    assert [(p.line, p.column) for p in result.errors] == [(2, "customer_number"), (3, "customer_number"),
                                                            (4, "customer_number")]
    assert "使用開始を完了にするには新しいお客様番号が必要です" in str(result.errors[0])


def test_a_shift_jis_answer_via_the_cli(app, nayoro, runner, tmp_path):
    pay = add_request(app, nayoro, "payment_method", "in_progress")
    number = get_request(app, nayoro, pay).receipt_number
    path = tmp_path / "kekka.csv"
    path.write_bytes(f"receipt_number,status,message\r\n{number},差戻し,髙橋様の口座名義を確認してください。\r\n".encode("cp932"))
    result = runner.invoke(procedures_cli, ["import-status", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 0, result.output
    assert "(cp932): 1 row(s): 1 changed" in result.output
    assert get_request(app, nayoro, pay).status == "returned"
    bad = tmp_path / "bad.csv"
    bad.write_text("receipt_number,status\nR2026-999999,completed\n", encoding="utf-8")
    refused = runner.invoke(procedures_cli, ["import-status", "--tenant", "nayoro", str(bad)])
    assert refused.exit_code == 1 and "line 2: receipt_number:" in refused.output


def test_the_export_file_round_trips_through_import_status(app, nayoro):
    """What the billing system sends back is keyed by the export's own 受付番号 column."""
    ids = [add_request(app, nayoro, "payment_method", "in_progress") for _ in range(3)]
    exported = rows(export(app, nayoro, "payment_method").body)
    lines = ["receipt_number,status,message"] + [f"{r[0]},completed,口座振替を登録しました。" for r in exported[1:]]
    result = answer(app, nayoro, "\n".join(lines) + "\n")
    assert result.ok and result.changed == 3
    assert {get_request(app, nayoro, i).status for i in ids} == {"completed"}



def test_every_kind_has_a_header_the_billing_system_can_map():
    """Each column name once per file: a billing system maps columns by name."""
    from waterportal.procedures.kinds import ordered

    kinds = ordered()
    assert {"move_in", "move_out", "payment_method"} <= {kind.key for kind in kinds}
    for kind in kinds:
        names = exporting.header(kind)
        assert len(names) == len(set(names)), (kind.key, names)
        assert names[:len(exporting.COMMON_COLUMNS)] == list(exporting.COMMON_COLUMNS)
        assert len(names) > len(exporting.COMMON_COLUMNS), kind.key  # the kind's own columns follow


@pytest.mark.real_commits
def test_exports_at_once_never_write_a_request_twice(two_workers):  # noqa: F811
    """Two clerks (or the console and cron) export at the same moment: the rows are claimed
    by one UPDATE before the file is written, so each request is in exactly one file."""
    first, _second = two_workers
    nayoro = city(first, "nayoro")
    for _ in range(20):
        add_request(first, nayoro, "move_in", "in_progress")

    def export(app):
        tenant = get_registry().by_slug("nayoro")
        with tenant_context(tenant), writing_transactions():
            result = exporting.export_requests(tenant, "move_in", actor="staff:1")
            db.session.commit()
        return result.receipt_numbers

    files = at_once(list(two_workers) * 2, export)
    written = [number for numbers in files for number in numbers]
    assert len(written) == len(set(written)) == 20


@pytest.mark.real_commits
def test_the_same_answer_imported_twice_at_once_is_applied_once(two_workers):  # noqa: F811
    first, _second = two_workers
    nayoro = city(first, "nayoro")
    ids = [add_request(first, nayoro, "payment_method", "in_progress") for _ in range(5)]
    numbers = [get_request(first, nayoro, i).receipt_number for i in ids]
    answer = ("receipt_number,status,message\n" + "".join(f"{n},completed,登録しました。\n" for n in numbers)).encode()

    def apply(app):
        tenant = get_registry().by_slug("nayoro")
        with tenant_context(tenant):
            result = import_status(tenant, answer, filename="answer.csv")
            db.session.commit()
        return result.changed

    assert sorted(at_once(list(two_workers), apply)) == [0, 5]
    addresses = [get_request(first, nayoro, i).applicant_email for i in ids]
    with first.app_context(), tenant_context(nayoro):
        events = db.session.scalars(select(ProcedureEvent.request_id).where(ProcedureEvent.status == "completed")).all()
        assert sorted(events) == sorted(ids)
        mails = db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.to_address.in_(addresses))).all()
        assert sorted(mails) == sorted(addresses)
