"""A tiny run of bench/load.py, so `make test` keeps the load script working: it builds the
demo database, serves it under gunicorn and runs a few clients for a few seconds, and must
see no 5xx (its exit status). The real figures (64 clients, 60 s) are in docs/reliability.md.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import bench_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite only: runs in make test's SQLite pass")
def test_load_script_smoke_run_gets_no_5xx():
    run = subprocess.run(
        [sys.executable, "bench/load.py", "--clients", "4", "--seconds", "3", "--contracts", "2", "--months", "2",
         "--workers", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env=bench_env(),
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "journey   requests   5xx" in run.stdout
    table = {line.split()[0]: line.split() for line in run.stdout.splitlines() if line.startswith(("view ", "all "))}
    assert int(table["all"][1]) > 0 and int(table["all"][2]) == 0, run.stdout
