"""The demo smart meters (issue 14 §6): each city's demo member's first contract has 60 days of
daily readings that `make demo` imports; with the frozen clock the contract stops using water and
its 見守り mail reaches the family address once, through the outbox worker and real SMTP."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.clock import JST
from tests.imports.helpers import csv_text
from waterportal.contracts.models import MemberContract
from waterportal.demo.cities import PROFILES
from waterportal.demo.readings import DAYS, READING_COLUMNS, SMART_METERS, reading_rows, write_readings
from waterportal.extensions import db
from waterportal.imports.readings import import_readings
from waterportal.mail.jobs import expand_due
from waterportal.mail.sender import send_due
from waterportal.readings.models import MeterReading, Watch
from waterportal.tenancy.context import tenant_context

TODAY = dt.date(2026, 11, 18)  # the suite's clock


def test_the_same_day_always_reads_the_same():
    rows = reading_rows("nayoro", TODAY, "seed")
    assert len(rows) == DAYS and rows[-1]["reading_date"] == "2026-11-17" and rows[0]["reading_date"] == "2026-09-19"
    assert reading_rows("nayoro", TODAY + dt.timedelta(days=1), "seed")[:-1] == rows[1:]
    assert all(0.18 <= float(r["usage_m3"]) <= 0.4 for r in rows)


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_the_demo_readings_import(app, tmp_path, slug, nayoro, kanazawa, make_contract):
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    make_contract(tenant, customer_number=SMART_METERS[slug])
    path = write_readings(tmp_path, slug, PROFILES[slug].encoding, TODAY, "seed")
    with app.app_context():
        result = import_readings(tenant, path)
        db.session.commit()
    assert (result.status, result.inserted) == ("ok", DAYS)
    # Digits, dates and the header only: ASCII, which reads as UTF-8 whatever the city's encoding.
    assert result.encoding == "utf-8" and path.read_bytes().isascii()


def test_the_demo_contract_stops_using_water_and_the_family_is_told_once(app, tmp_path, nayoro, make_contract,
                                                                          make_member, smtp_server, clock):
    contract_id = make_contract(nayoro, customer_number=SMART_METERS["nayoro"])
    member_id = make_member(nayoro, email="hanako@example.jp", nickname="花子")
    with app.app_context(), tenant_context(nayoro):
        db.session.add(MemberContract(member_id=member_id, contract_id=contract_id, label="実家"))
        # Verified as tests/mypage/account/test_watch.py does through the pages.
        db.session.add(Watch(member_id=member_id, contract_id=contract_id, email="kazoku@example.jp", days=2,
                             verified_at=dt.datetime(2026, 11, 1)))
        db.session.commit()

    def import_and_work(rows) -> list:
        with app.app_context():
            assert import_readings(nayoro, csv_text(READING_COLUMNS, rows).encode()).ok
            db.session.commit()
            expand_due()
            send_due()
        return [m for m in smtp_server.messages if m["To"] == "kazoku@example.jp"]

    assert import_and_work(reading_rows("nayoro", TODAY, "demo")) == []  # a household using water daily
    clock.move_to(dt.datetime(2026, 11, 20, 8, 0, tzinfo=JST))  # two quiet days later
    quiet = [{"customer_number": SMART_METERS["nayoro"], "reading_date": day, "usage_m3": "0.000"}
             for day in ("2026-11-18", "2026-11-19")]
    mails = import_and_work(quiet)
    assert len(mails) == 1 and "2日間使われていません" in str(mails[0]["Subject"])
    assert len(import_and_work(quiet)) == 1  # the same episode: not again
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalar(select(Watch.alerted_last_use)) == dt.date(2026, 11, 17)
        assert db.session.scalar(select(db.func.count(MeterReading.id))) == DAYS + 2
