"""A toy run of bench/bench_import.py (480 bills, one round, no doc), so `make test` keeps the
benchmark working: every import in its child process, the baselines, the ratios and the
peak RSS lines. The real figures are in docs/performance.md (Billing import)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import bench_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite only: runs in make test's SQLite pass")
def test_import_benchmark_smoke_run():
    run = subprocess.run(
        [sys.executable, "bench/bench_import.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=bench_env(),
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "inserted=480 updated=0 unchanged=0" in run.stdout
    assert "baseline/import = " in run.stdout
    assert "peak RSS first: " in run.stdout and "peak RSS again: " in run.stdout
