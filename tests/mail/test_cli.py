"""``flask outbox send [--loop]``, ``flask outbox status``, ``flask outbox check``."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

import pytest
import time_machine
from sqlalchemy import create_engine, select

from tests.smtp import find_url
from waterportal.extensions import db
from waterportal.mail.cli import run_worker
from waterportal.mail.models import OutboxMessage
from waterportal.mail.services import queue_mail
from waterportal.tenancy.context import tenant_context

T0 = dt.datetime(2025, 6, 10, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


def queue(tenant, to="taro@example.jp"):
    with tenant_context(tenant):
        message_id = queue_mail(tenant, to, "check").id
    db.session.commit()
    return message_id


def test_send_once_prints_the_counts(app_ctx, runner, nayoro, kanazawa, smtp_server):
    queue(nayoro)
    queue(kanazawa)

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert result.output == "sent 2, retrying 0, failed 0\n"
    assert len(smtp_server.wait_for(2)) == 2


def test_send_respects_the_limit(app_ctx, runner, nayoro, smtp_server):
    for n in range(3):
        queue(nayoro, to=f"user{n}@example.jp")

    assert runner.invoke(args=["outbox", "send", "--limit", "2"]).output == "sent 2, retrying 0, failed 0\n"
    assert runner.invoke(args=["outbox", "send", "--limit", "2"]).output == "sent 1, retrying 0, failed 0\n"


def test_loop_runs_the_given_number_of_rounds(app_ctx, runner, nayoro, smtp_server):
    queue(nayoro)
    smtp_server.stop()

    result = runner.invoke(args=["outbox", "send", "--loop", "--interval", "0", "--max-iterations", "3"])

    assert result.exit_code == 0, result.output
    # Round 1 fails (server down); rounds 2 and 3 find nothing due yet (backoff 30 s).
    assert result.output.splitlines() == [
        "outbox worker started (every 0s, 100 per round)",
        "sent 0, retrying 1, failed 0",
        "outbox worker stopped: sent 0, retrying 1, failed 0",
    ]


def test_worker_keeps_sending_as_mail_becomes_due(app_ctx, nayoro, smtp_server):
    queue(nayoro)
    smtp_server.stop()
    stop = threading.Event()
    rounds = []

    def later_round(interval):
        # The worker's wait: let time pass and bring the server back, as in real life.
        rounds.append(interval)
        if len(rounds) == 1:
            smtp_server.start()
            traveller.shift(dt.timedelta(seconds=30))
        return stop.is_set()

    with time_machine.travel(T0, tick=False) as traveller:
        stop.wait = later_round  # type: ignore[method-assign]
        total = run_worker(interval=5, limit=100, max_iterations=2, stop=stop)

    assert str(total) == "sent 1, retrying 1, failed 0"
    assert rounds == [5]
    assert len(smtp_server.wait_for(1)) == 1


def test_worker_survives_a_failing_round(app_ctx, app, caplog, monkeypatch):
    from waterportal.mail import cli

    calls = []

    def flaky(limit):
        calls.append(limit)
        raise RuntimeError("database restarting")

    monkeypatch.setattr(cli, "send_due", flaky)
    total = run_worker(interval=0, limit=10, max_iterations=2)

    assert calls == [10, 10]
    assert str(total) == "sent 0, retrying 0, failed 0"
    assert "outbox worker round failed" in caplog.text


def test_status_lists_every_city(app_ctx, runner, nayoro, kanazawa, mail_down):
    queue(nayoro)
    queue(nayoro)
    with tenant_context(kanazawa):
        queue_mail(kanazawa, "hanako@example.jp", "check").status = "failed"
        db.session.commit()

    result = runner.invoke(args=["outbox", "status"])

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[0] == ["city", "pending", "sent", "failed", "expired", "oldest", "pending"]
    assert ["kanazawa", "0", "0", "1", "0", "-"] in lines
    assert ["nayoro", "2", "0", "0", "0", "0s"] in lines


def test_check_sends_a_mail_with_the_citys_sender(app_ctx, runner, smtp_server):
    result = runner.invoke(args=["outbox", "check", "--city", "kanazawa", "--to", "staff@example.jp"])

    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    mail = smtp_server.last_to("staff@example.jp")
    assert mail["From"].addresses[0].addr_spec == "noreply@kanazawa.localhost"
    assert find_url(mail) == "http://kanazawa.localhost/"


def test_check_with_the_server_down_fails_and_keeps_the_mail(app_ctx, runner, nayoro, mail_down):
    result = runner.invoke(args=["outbox", "check", "--city", "nayoro", "--to", "staff@example.jp"])

    assert result.exit_code == 1
    assert "retrying 1" in result.output
    with tenant_context(nayoro):
        assert db.session.scalars(select(OutboxMessage.status)).all() == ["pending"]


def test_check_refuses_an_unknown_city(app_ctx, runner):
    result = runner.invoke(args=["outbox", "check", "--city", "atlantis", "--to", "a@example.jp"])

    assert result.exit_code == 2
    assert "no city with slug 'atlantis'" in result.output


def test_ctrl_c_lets_the_worker_finish_its_round_and_exit(app_ctx, runner, monkeypatch):
    from waterportal.mail import cli
    from waterportal.mail.sender import SendCounts

    rounds = []

    def round_interrupted(limit):
        rounds.append(limit)
        signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of a round
        return SendCounts(sent=1)

    monkeypatch.setattr(cli, "send_due", round_interrupted)
    previous = signal.getsignal(signal.SIGINT)
    result = runner.invoke(args=["outbox", "send", "--loop", "--interval", "0"])

    assert result.exit_code == 0, result.output
    assert rounds == [100]
    assert result.output.splitlines()[-1] == "outbox worker stopped: sent 1, retrying 0, failed 0"
    assert signal.getsignal(signal.SIGINT) is previous


def test_worker_process_stops_cleanly_on_sigterm(tmp_path):
    # A real worker process on an empty database of its own.
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    env = {**os.environ, "WATERPORTAL_ENV": "testing", "FLASK_SQLALCHEMY_DATABASE_URI": url,
           "WATERPORTAL_INSTANCE_PATH": str(tmp_path), "FLASK_MAIL_PORT": "9"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "send", "--loop", "--interval", "30"],
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert worker.stdout.readline().startswith("outbox worker started (every 30s")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert out.strip() == "outbox worker stopped: sent 0, retrying 0, failed 0"
