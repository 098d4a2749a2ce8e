"""The daily summary mail to the city's inquiry address: only cities that ask for it, counts
without personal data, once per city and city-local day whatever runs it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from tests.clock import JST
from tests.conftest import city
from tests.procedures.staff_support import add_request
from waterportal.admin.procedures_cli import procedures_cli
from waterportal.admin.settings.services import apply_overrides
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import summary
from waterportal.procedures.summary import send_daily_summaries
from waterportal.tenancy.context import tenant_context


def switch_on(app, slug: str):
    tenant = city(app, slug)
    with app.app_context(), tenant_context(tenant):
        apply_overrides(tenant, {"procedures": {"daily_summary": True}}, actor="staff:1")
        db.session.commit()
    return city(app, slug)


def summaries(app, tenant) -> list[OutboxMessage]:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "procedure_daily_summary")
                                  .order_by(OutboxMessage.id)).all()


def test_one_summary_a_day_to_the_cities_that_ask(app, nayoro, kanazawa, runner, clock):
    nayoro = switch_on(app, "nayoro")
    add_request(app, nayoro, "move_in", "received", created_at=dt.datetime(2026, 11, 17, 3, 0),
                applicant_name="個人 情報子")  # within 24 hours
    add_request(app, nayoro, "payment_method", "in_progress", created_at=dt.datetime(2026, 11, 1, 0, 30))
    add_request(app, nayoro, "move_in", "completed", created_at=dt.datetime(2026, 11, 17, 4, 0))
    add_request(app, kanazawa, "move_in", "received")
    result = runner.invoke(procedures_cli, ["daily-summary"])
    assert result.exit_code == 0 and "nayoro: summary queued" in result.output and "kanazawa" not in result.output
    [mail] = summaries(app, nayoro)
    assert mail.to_address == nayoro.settings["contact"]["inquiry_email"]
    assert "2026年11月18日" in mail.subject
    body = mail.body
    assert "過去24時間の新しい受付: 2件" in body and "・水道の使用開始: 2件" in body
    assert "未完了の申請: 2件" in body and "・受付: 1件" in body and "・処理中: 1件" in body and "・差戻し: 0件" in body
    assert "2026年11月1日 09:30" in body  # the oldest open one, city time
    assert "/admin/procedures" in body and "個人 情報子" not in body
    assert summaries(app, kanazawa) == []
    # Again the same day (cron twice, a retry): nothing more.
    again = runner.invoke(procedures_cli, ["daily-summary"])
    assert "nayoro: already sent today" in again.output and len(summaries(app, nayoro)) == 1
    # The next city day: one more.
    clock.move_to(dt.datetime(2026, 11, 19, 7, 0, tzinfo=JST))
    runner.invoke(procedures_cli, ["daily-summary", "--tenant", "nayoro"])
    assert len(summaries(app, nayoro)) == 2


def test_a_run_that_lost_the_race_sends_nothing(app, monkeypatch):
    """The day's row is the guard: a run that did not see it (it read before the other run
    committed) is stopped by the unique key, not by its own check."""
    nayoro = switch_on(app, "nayoro")
    with app.app_context():
        assert send_daily_summaries([nayoro]) == {"nayoro": 1}
        db.session.commit()
        monkeypatch.setattr(summary, "summarised", lambda days: set())  # what the overlapping run read
        assert send_daily_summaries([nayoro], now=dt.datetime(2026, 11, 18, 2, 0)) == {"nayoro": 0}
        db.session.commit()
    assert len(summaries(app, nayoro)) == 1


def test_the_statements_do_not_grow_with_the_cities_that_have_nothing_to_send(app, kanazawa):
    """Set-wise: the cities already summarised today cost no statement of their own."""
    nayoro = switch_on(app, "nayoro")
    both = [nayoro, switch_on(app, "kanazawa")]
    with app.app_context():
        send_daily_summaries(both)
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert send_daily_summaries(both) == {"nayoro": 0, "kanazawa": 0}
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "procedure" in s]) == 1
