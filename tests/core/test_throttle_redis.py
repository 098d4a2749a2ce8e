"""Issue 9 #3: with Redis storage, two app processes (two gunicorn workers) hold one limit.

Needs the Redis at 127.0.0.1:6379 (``TEST_REDIS_URL`` for another); without it the test
skips with that line, except where ``REQUIRE_REDIS=1`` (CI) makes a missing Redis an error.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from tests.clock import without_libfaketime

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# One app process: count ``tries`` login failures against one account's rule; print how
# many the limit let through.
WORKER = """
import sys
from waterportal.app import create_app
from waterportal.core import throttle
app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_STORAGE_URI": sys.argv[1]})
with app.app_context():
    rule = throttle.Rule(sys.argv[2], "5 per 15 minutes")
    print(sum(throttle.hit(None, rule, "taro@example.jp") for _ in range(int(sys.argv[3]))))
"""


def _redis_up() -> bool:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url():
    if not _redis_up():
        message = f"needs Redis at {REDIS_URL} (apt-get install redis-server; REQUIRE_REDIS=1 makes this an error)"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


def test_two_app_processes_share_one_limit(redis_url):
    rule = f"two-workers-{uuid.uuid4().hex}"  # this run's own keys; they expire with the window
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, redis_url, rule, "4"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in outputs]
    let_through = [int(out.strip().splitlines()[-1]) for out, _ in outputs]
    # 8 tries in two processes, 5 allowed in all: memory:// would have let all 8 through.
    assert sum(let_through) == 5, let_through


def test_memory_storage_counts_per_process():
    """The contrast: what production refuses (tests/core/test_env_settings.py)."""
    rule = f"two-workers-{uuid.uuid4().hex}"
    outs = [subprocess.run([sys.executable, "-c", WORKER, "memory://", rule, "4"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60) for _ in range(2)]
    assert [int(o.stdout.strip().splitlines()[-1]) for o in outs] == [4, 4], [o.stderr for o in outs]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own, on a free port, that the test stops and starts."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with without_libfaketime():  # make test-night: redis-server keeps real time
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                threading.Event().wait(0.05)  # monotonic wait: the suite's clock is frozen
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        message = "needs redis-server on PATH (apt-get install redis-server; REQUIRE_REDIS=1 makes this an error)"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def test_a_redis_outage_counts_in_the_workers_memory_and_ends_by_itself(own_redis, monkeypatch, caplog):
    """Issue 9 #12's fault script: with Redis stopped, every login and code form answered 500
    (redis ConnectionError). Now the worker counts in its own memory while Redis is away, says
    so once in the log, and goes back to Redis when it answers."""
    from waterportal.app import create_app
    from waterportal.core import throttle

    monkeypatch.setattr(throttle, "STORAGE_RETRY_SECONDS", 0.2)  # 2 s in production
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "RATELIMIT_STORAGE_URI": own_redis.url})
    rule = throttle.Rule(f"outage-{uuid.uuid4().hex}", "3 per 15 minutes")
    with app.app_context():
        assert throttle.hit(None, rule, "taro") and throttle.hit(None, rule, "taro")
        own_redis.stop()
        # Redis gone: no exception; the worker's memory starts its own count (a fresh window).
        assert [throttle.hit(None, rule, "taro") for _ in range(4)] == [True, True, True, False]
        assert not throttle.allowed(None, rule, "taro")
        assert throttle.retry_after(None, rule, "taro") > 0
        assert sum("throttle storage" in r.getMessage() for r in caplog.records) == 1
        own_redis.start()
        threading.Event().wait(0.3)  # Redis is asked again once the retry interval is over
        # Back on Redis: the two hits counted there before the outage are gone with the
        # restarted server (no persistence), so three are allowed again.
        assert [throttle.hit(None, rule, "taro") for _ in range(4)] == [True, True, True, False]
        assert not throttle._limiter().down
