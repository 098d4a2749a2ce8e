"""A tiny run of bench/bench_http.py, so `make test` keeps the request-cost benchmark working:
it builds the demo database, serves the portal and both baselines under gunicorn, logs the
bench members in and loads each page for a second; every answer must be the real page (its
exit status). The figures are in docs/performance.md."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import bench_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite only: runs in make test's SQLite pass")
def test_http_bench_smoke_run():
    run = subprocess.run(
        [sys.executable, "bench/bench_http.py", "--seconds", "1", "--rounds", "1", "--workers", "1", "--contracts", "2",
         "--months", "2", "--members", "2", "--connections", "2", "--no-doc"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=bench_env(),
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "dashboard / one_select:" in run.stdout and "failed answers: 0" in run.stdout, run.stdout


def test_a_wrong_answer_fails_the_run_and_a_rare_lost_request_does_not(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    failed_answers = importlib.import_module("bench_http").failed_answers
    assert failed_answers(wrong=1, lost=0, requests=20_000) == 1  # a 500 is the portal's fault
    assert failed_answers(wrong=0, lost=1, requests=20_000) == 0  # one reset on a loaded machine
    assert failed_answers(wrong=0, lost=21, requests=20_000) == 21  # more than one in a thousand
    assert failed_answers(wrong=2, lost=1, requests=20_000) == 2
