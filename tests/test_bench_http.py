"""A tiny run of bench/bench_http.py, so `make test` keeps the request-cost benchmark working:
it builds the demo database, serves the portal and both baselines under gunicorn, logs the
bench members in and loads each page for a second; every answer must be the real page (its
exit status). The figures are in docs/performance.md."""
from __future__ import annotations

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
