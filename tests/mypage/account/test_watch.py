"""見守り (issue 14 §6): the family address is verified by a code before it is used; a contract
that shows no use for the chosen days mails it once per episode, through the outbox worker.

The suite's clock stands at 2026-11-18 10:00 in Japan; readings arrive for yesterday (the 17th).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.clock import JST
from tests.imports.helpers import csv_text
from tests.mypage.account.conftest import text
from tests.smtp import body_of
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS, import_readings
from waterportal.mail.jobs import expand_due
from waterportal.mail.sender import send_due
from waterportal.readings.models import Watch
from waterportal.readings.watch import record_watch_check
from waterportal.tenancy.context import tenant_context

FAMILY = "kazoku@example.jp"
TODAY = dt.date(2026, 11, 18)


def load(app, tenant, number: str, usages: dict[dt.date, str]):
    """Import ``{day: m³}`` for contract ``number`` of ``tenant`` (the real import, committed)."""
    rows = [{"customer_number": number, "reading_date": day.isoformat(), "usage_m3": usage}
            for day, usage in sorted(usages.items())]
    with app.app_context():
        result = import_readings(tenant, csv_text(READING_COLUMNS, rows).encode(), actor="test")
        db.session.commit()
    assert result.ok, result.errors
    return result


def days(last: dt.date, *usages: str) -> dict[dt.date, str]:
    """Consecutive days ending with ``last``, one usage each (oldest first)."""
    return {last - dt.timedelta(days=len(usages) - 1 - n): usage for n, usage in enumerate(usages)}


def run_worker(app) -> None:
    """One round of the outbox worker (``flask outbox send``): expand the jobs, send what is due."""
    with app.app_context():
        expand_due()
        send_due()


def code_in(mail: dict) -> str:
    match = re.search(r"(?:認証コード|Verification code|にんしょう コード).*?: (\d{6})", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def ask(client, contract_id, email=FAMILY, watch_days="3"):
    return client.submit("/mypage/profile/watch", {"contract_id": str(contract_id), "email": email, "days": watch_days})


def enter(client, code):
    return client.submit("/mypage/profile/watch/verify", {"code": code}, form_page="/mypage/profile/watch")


def watch_row(app, tenant):
    with app.app_context(), tenant_context(tenant):
        watch = db.session.scalar(select(Watch))
        return None if watch is None else (watch.email, watch.days, watch.verified_at is not None)


def set_up(app, tenant, person, logged_in, outbox, **member):
    """A member with two contracts, the first with readings; 見守り verified for it (3 days)."""
    who = person(tenant, contracts=2, **member)
    load(app, tenant, who.numbers[0], days(TODAY - dt.timedelta(days=1), *["0.2"] * 10))
    client = logged_in(who)
    assert ask(client, who.contract_ids[0]).headers["Location"] == "/mypage/profile/watch/verify"
    enter(client, code_in(outbox(tenant, to=FAMILY, kind="watch_code")[-1]))
    assert watch_row(app, tenant) == (FAMILY, 3, True)
    return who, client


def test_the_family_address_is_verified_before_it_is_used(app, tenant, person, logged_in, outbox, audit_actions):
    who = person(tenant, contracts=2)
    with_readings, without = who.contract_ids
    load(app, tenant, who.numbers[0], days(TODAY, "0.2", "0.3"))
    client = logged_in(who)
    page = text(client.get("/mypage/profile/watch"))
    assert who.numbers[0] in page and who.numbers[1] not in page  # only a contract with readings is offered
    assert client.get("/mypage/profile/watch").headers["Cache-Control"] == "no-store"

    refused = ask(client, without, email=who.email, watch_days="9")
    body = text(refused)
    assert refused.status_code == 200 and watch_row(app, tenant) is None
    assert re.search(r'id="contract_id-error">見守りの対象にする契約を選択してください。', body)
    assert re.search(r'id="email-error">ご自身のメールアドレスではなく', body)
    assert re.search(r'id="days-error">日数は1日から7日の間で選択してください。', body)
    assert f'value="{who.email}"' in body  # the input is kept

    assert ask(client, with_readings, email=" Kazoku@Example.JP ").headers["Location"] == "/mypage/profile/watch/verify"
    assert watch_row(app, tenant) == (FAMILY, 3, False)
    mail, = outbox(tenant, to=FAMILY)  # the code, and nothing else, until it is typed in
    assert mail["kind"] == "watch_code" and "見守りの連絡先の確認" in mail["subject"]
    assert "水道太郎様" in mail["body"]
    assert "まだ終わっていません" in text(client.get("/mypage/profile/notifications"))
    code = code_in(mail)
    wrong = text(enter(client, "000000" if code != "000000" else "111111"))
    assert re.search(r'id="code-error">認証コードが正しくありません。.*あと4回', wrong)
    done = enter(client, code)
    assert done.headers["Location"] == "/mypage/profile/notifications"
    settings = text(client.get("/mypage/profile/notifications"))
    assert "見守りを開始しました。" in settings and f"水道が3日間使われていないとき、{FAMILY} にお知らせします。" in settings
    assert watch_row(app, tenant) == (FAMILY, 3, True)

    # The days changed, the address kept: no new code; a new address waits for its own code.
    assert ask(client, with_readings, watch_days="5").headers["Location"] == "/mypage/profile/notifications"
    assert watch_row(app, tenant) == (FAMILY, 5, True) and len(outbox(tenant, to=FAMILY)) == 1
    assert ask(client, with_readings, email="other@example.jp").headers["Location"] == "/mypage/profile/watch/verify"
    assert watch_row(app, tenant) == ("other@example.jp", 3, False)
    client.submit("/mypage/profile/watch/stop", {}, form_page="/mypage/profile/watch")
    assert watch_row(app, tenant) is None
    assert audit_actions(who)[-4:] == ["member.watch_verified", "member.watch_set", "member.watch_set",
                                       "member.watch_removed"]


def test_no_use_for_the_days_mails_the_family_once_per_episode(app, nayoro, kanazawa, person, logged_in, outbox,
                                                                 smtp_server, clock):
    who, _client = set_up(app, nayoro, person, logged_in, outbox)
    other, _ = set_up(app, kanazawa, person, logged_in, outbox)  # the same address watches in Kanazawa
    smtp_server.clear()

    def worker() -> list:
        run_worker(app)
        return [m for m in smtp_server.messages if "見守りのお知らせ" in str(m["Subject"])]

    yesterday = TODAY - dt.timedelta(days=1)
    load(app, nayoro, who.numbers[0], days(yesterday, "0.2", "0", "0"))  # two quiet days: not yet
    assert worker() == []
    load(app, nayoro, who.numbers[0], days(yesterday, "0.2", "0", "0", "0"))  # three
    sent = worker()
    assert len(sent) == 1 and sent[0]["To"] == FAMILY
    assert str(sent[0]["Subject"]) == "【名寄市上下水道ポータル】見守りのお知らせ(水道が3日間使われていません)"
    body = body_of(sent[0])
    assert "水道太郎様が登録した見守りのお知らせです。" in body and f"末尾{who.numbers[0][-4:]}" in body
    assert who.numbers[0] not in body

    # The same episode: a re-import, the daily check and another quiet day mail nobody.
    load(app, nayoro, who.numbers[0], days(yesterday, "0.2", "0", "0", "0"))
    with app.app_context(), tenant_context(nayoro):
        record_watch_check(nayoro)  # what `flask readings watch` records each morning
        db.session.commit()
    clock.move_to(dt.datetime(2026, 11, 19, 9, 0, tzinfo=JST))
    load(app, nayoro, who.numbers[0], {TODAY: "0"})
    assert len(worker()) == 1

    # Use resumes, then stops again for three days: a second mail.
    clock.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=JST))
    load(app, nayoro, who.numbers[0], days(dt.date(2026, 11, 22), "0.15", "0", "0", "0"))
    sent = worker()
    assert len(sent) == 2 and all(m["To"] == FAMILY for m in sent)
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(Watch.alerted_last_use)) == dt.date(2026, 11, 19)
    with app.app_context(), tenant_context(kanazawa):  # Kanazawa's contract still used water
        assert db.session.scalar(select(Watch.alerted_at)) is None


def test_the_mail_is_in_the_members_language(app, nayoro, person, logged_in, outbox, smtp_server):
    who, _client = set_up(app, nayoro, person, logged_in, outbox, language="en")
    load(app, nayoro, who.numbers[0], days(TODAY, "0", "0", "0"))
    run_worker(app)
    mail, = [m for m in smtp_server.messages if m["To"] == FAMILY and "3 days" in str(m["Subject"])]
    assert "Water has not been used for 3 days" in str(mail["Subject"])


@pytest.mark.parametrize("case", ["gap", "stale", "unverified", "unlinked", "used"])
def test_no_mail_without_evidence_of_no_use(app, nayoro, person, logged_in, outbox, smtp_server, case):
    who, client = set_up(app, nayoro, person, logged_in, outbox)
    yesterday = TODAY - dt.timedelta(days=1)
    quiet = days(yesterday, "0.2", "0", "0", "0")
    if case == "gap":  # a day without a reading is not a day without use
        quiet = {**days(yesterday, "0.2", "0", "0", "0", "0")}
        quiet[yesterday - dt.timedelta(days=1)] = "0"
        del quiet[yesterday - dt.timedelta(days=2)]
        quiet[yesterday - dt.timedelta(days=3)] = "0.1"
    elif case == "stale":  # the newest reading is three days old: the meter may have stopped reporting
        quiet = days(yesterday - dt.timedelta(days=2), "0.2", "0", "0", "0")
    elif case == "unverified":
        ask(client, who.contract_ids[0], email="new@example.jp")
    elif case == "unlinked":
        with app.app_context(), tenant_context(nayoro):
            db.session.execute(db.delete(MemberContract).where(MemberContract.contract_id == who.contract_ids[0]))
            db.session.commit()
    elif case == "used":
        quiet = days(yesterday, "0", "0", "0.001")
    load(app, nayoro, who.numbers[0], quiet)
    run_worker(app)
    assert [m for m in smtp_server.messages if "見守りのお知らせ" in str(m["Subject"])] == []



def test_the_daily_command_records_the_check_of_every_city(runner, nayoro, kanazawa):
    result = runner.invoke(args=["readings", "watch"])
    assert result.exit_code == 0, result.output
    assert sorted(line.split(":")[0] for line in result.output.splitlines()) == [
        "kanazawa watch check recorded", "nayoro watch check recorded"]
