"""The per-request cost of a member page (issue 10): the login check is one statement, the
city's template chain is walked once per city, and no connection is pinged before use."""
from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from tests.mypage.usage.conftest import history_rows
from waterportal.extensions import db
from waterportal.notices import services as notice_services
from waterportal.notices.models import Notice
from waterportal.tenancy.context import tenant_context

NUMBER = "00012345682"


def logged_in(client_for, nayoro, customer, login):
    customer(nayoro, [NUMBER], bills=history_rows(NUMBER, 3))
    client = client_for("nayoro")
    login(client, nayoro, "hanako@example.jp")
    assert client.get("/mypage").status_code == 200  # warm-up: the touch after login, templates
    return client


def test_the_login_check_is_one_statement(client_for, nayoro, customer, login, clock, count_statements):
    """The session row and its member come in one joined SELECT (they were two)."""
    client = logged_in(client_for, nayoro, customer, login)
    for path in ("/mypage", "/pages/about"):
        with count_statements() as seen:
            assert client.get(path).status_code == 200
        login_check = [s for s in seen if "member_sessions" in s or "FROM members" in s]
        assert len(login_check) == 1, login_check
        assert "JOIN members" in login_check[0]


def test_a_stale_session_is_still_refused(client_for, nayoro, customer, login, clock, app):
    """The joined load keeps every check: a bumped session version logs the member out."""
    from sqlalchemy import update

    from waterportal.accounts.models import Member
    from waterportal.tenancy.context import tenant_context

    client = logged_in(client_for, nayoro, customer, login)
    with app.app_context(), tenant_context(nayoro):
        db.session.execute(update(Member).values(session_version=Member.session_version + 1))
        db.session.commit()
    assert client.get("/mypage").status_code == 302


def test_missing_template_names_are_not_looked_up_again(client_for, nayoro, customer, login, clock, app,
                                                       monkeypatch):
    """After a city's first request its chain is known: no file-system check of the city's
    or theme's names that do not exist (16 a dashboard before)."""
    client = logged_in(client_for, nayoro, customer, login)
    missing: list[str] = []
    isfile = os.path.isfile

    def counting(path):
        found = isfile(path)
        if not found:
            missing.append(str(path))
        return found

    monkeypatch.setattr(os.path, "isfile", counting)
    for path in ("/mypage", "/pages/about", "/mypage/bills"):
        assert client.get(path).status_code == 200
        client.get(path)
    missing.clear()
    for path in ("/mypage", "/pages/about", "/mypage/bills"):
        assert client.get(path).status_code == 200
    assert missing == []


def test_no_connection_is_pinged_before_use(client_for, nayoro, customer, login, clock, app, monkeypatch):
    """pool_pre_ping cost a round trip a request; pool_recycle replaces it (the outage test,
    tests/core/test_database_outage.py, shows a lost connection still gets the 503 and the
    pool recovers)."""
    client = logged_in(client_for, nayoro, customer, login)
    with app.app_context():
        dialect, pool = db.engine.dialect, db.engine.pool
    pings: list[object] = []
    do_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(conn) or do_ping(conn))
    for _ in range(3):
        assert client.get("/mypage").status_code == 200
    assert pings == []
    assert pool._recycle > 0


NUMBER2 = "00012345683"


def test_the_dashboard_reads_links_and_the_newest_bill_in_one_statement(client_for, nayoro, customer, login,
                                                                          clock, count_statements):
    """The member's links and the selected contract's newest bill come in one statement (they
    were two); the bill shown is the newest of the contract being viewed, not of another link."""
    customer(nayoro, [NUMBER, NUMBER2], bills=history_rows(NUMBER, 3) + history_rows(NUMBER2, 2, newest="2026-09",
                                                                                      base=500))
    client = client_for("nayoro")
    login(client, nayoro, "hanako@example.jp")
    assert client.get("/mypage").status_code == 200
    with count_statements() as seen:
        body = client.get("/mypage").get_data(as_text=True)
    # The street's area alerts (issue 14 §4) are their own statement, which joins the links too.
    reads = [s for s in seen if "member_contracts" in s and "member_sessions" not in s and "area_alerts" not in s]
    assert len(reads) == 1, reads
    assert not [s for s in seen if "FROM bills" in s and s not in reads]
    assert "令和8年10月" in body  # NUMBER's newest month, the first link is selected
    contract_ids = dict(re.findall(r'<option value="(\d+)"[^>]*>[^<]*?(\d{11})[^<]*</option>', body))
    token = client.csrf_token("/mypage")
    second = next(value for value, number in contract_ids.items() if number == NUMBER2)
    client.post("/mypage/contract", data={"csrf_token": token, "contract_id": second})
    body = client.get("/mypage").get_data(as_text=True)
    assert "令和8年9月" in body and "令和8年10月" not in body


def notice(app, tenant, title, published, expires=None):
    """A notice written behind the services' back (another worker's write, as this one sees it)."""
    with app.app_context(), tenant_context(tenant):
        db.session.add(Notice(title=title, published_at=published, expires_at=expires))
        db.session.commit()


def test_member_notices_are_read_once_per_refresh_interval(app, client_for, nayoro, customer, login, clock,
                                                             count_statements, monkeypatch):
    """With TENANT_REFRESH_SECONDS > 0 a worker reads a city's notices at most once per interval;
    publication and expiry still take effect to the second, a notice written through the
    services shows at once in this worker, and one written elsewhere within the interval."""
    monkeypatch.setitem(app.config, "TENANT_REFRESH_SECONDS", 2.0)
    ticks = [1000.0]
    monkeypatch.setattr(notice_services, "_clock", lambda: ticks[0])
    notice_services.forget_member_notices()
    now = dt.datetime(2026, 11, 18, 1, 0)  # DAYTIME in UTC
    notice(app, nayoro, "断水のお知らせ", now - dt.timedelta(days=1))
    notice(app, nayoro, "予約のお知らせ", now + dt.timedelta(minutes=5))
    notice(app, nayoro, "終わるお知らせ", now - dt.timedelta(days=2), expires=now + dt.timedelta(minutes=3))
    client = logged_in(client_for, nayoro, customer, login)
    body = client.get("/mypage").get_data(as_text=True)
    assert "断水のお知らせ" in body and "終わるお知らせ" in body and "予約のお知らせ" not in body

    with count_statements() as seen:
        assert client.get("/mypage").status_code == 200
    assert not [s for s in seen if "FROM notices" in s], seen
    clock.shift(minutes=6)  # the scheduled one is published, the other has expired: no new read
    with count_statements() as seen:
        body = client.get("/mypage").get_data(as_text=True)
    assert not [s for s in seen if "FROM notices" in s], seen
    assert "予約のお知らせ" in body and "終わるお知らせ" not in body

    notice(app, nayoro, "別の職員のお知らせ", now)  # another worker's write
    assert "別の職員のお知らせ" not in client.get("/mypage").get_data(as_text=True)
    ticks[0] += 2.0
    assert "別の職員のお知らせ" in client.get("/mypage").get_data(as_text=True)

    with app.app_context(), tenant_context(nayoro):  # this worker's write, through the service
        notice_services.create_notice(nayoro, "staff", title="この職員のお知らせ", body="",
                                      published_at=now, important=True)
        db.session.commit()
    assert "この職員のお知らせ" in client.get("/mypage").get_data(as_text=True)
    notice_services.forget_member_notices()


def test_member_notices_are_read_on_every_request_in_tests(app, client_for, nayoro, customer, login, clock,
                                                            count_statements):
    """TENANT_REFRESH_SECONDS = 0 (testing.toml): every dashboard reads the notices, as before."""
    assert app.config["TENANT_REFRESH_SECONDS"] == 0
    client = logged_in(client_for, nayoro, customer, login)
    notice(app, nayoro, "すぐ出るお知らせ", dt.datetime(2026, 11, 17, 0, 0))
    with count_statements() as seen:
        body = client.get("/mypage").get_data(as_text=True)
    assert "すぐ出るお知らせ" in body
    assert len([s for s in seen if "FROM notices" in s]) == 1


def test_the_dashboard_read_goes_down_the_bills_index_not_the_citys_whole_history(
        app, client_for, nayoro, customer, login, clock):
    """The dashboard's links + recent bills statement finds each linked contract's bills by
    contract in the (tenant_id, contract_id, billing_month) index: its cost must not grow with
    the number of bills in the city. It searched the bills by city alone before
    (``SEARCH bills USING INDEX ix_bills_tenant_month (tenant_id=?)``: 4 ms of a 5 ms
    dashboard with 7,200 bills, bench/bench_dashboard.py)."""
    from sqlalchemy import event

    client = logged_in(client_for, nayoro, customer, login)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan: this runs in the SQLite pass (on PostgreSQL a test table's plan says "
                    "nothing; bench/bench_dashboard.py --postgres measures the dashboard there)")
    captured: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if "member_contracts" in statement and "FROM bills" in statement.replace('"', ""):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/mypage").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(captured) == 1, captured
    statement, parameters = captured[0]
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        plan = [row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()]
    on_bills = [step for step in plan if re.match(r"(SEARCH|SCAN) bills", step)]
    assert len(on_bills) == 2 and all("contract_id=?" in step for step in on_bills), plan
