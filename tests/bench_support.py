"""What the benchmarks' smoke runs share: the environment their scripts run in."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# libfaketime (make test-night) breaks time.sleep in a child Python (EINVAL, see
# tests/clock.py); the scripts time themselves, so they run on the real clock.
_NOT_PASSED = ("LD_PRELOAD", "FAKETIME")


def bench_env() -> dict[str, str]:
    """This environment without FLASK_* settings (the script sets its own) and libfaketime."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("FLASK_") and key not in _NOT_PASSED}


def run_smoke(script: str, doc) -> subprocess.CompletedProcess:
    """Run ``bench/<script> --smoke`` writing its table to ``doc``, on PostgreSQL when
    ``TEST_DATABASE_URL`` is set; fails the test with the script's output when it fails."""
    args = [sys.executable, f"bench/{script}", "--smoke", "--doc", str(doc)]
    if os.environ.get("TEST_DATABASE_URL"):
        args += ["--postgres", os.environ["TEST_DATABASE_URL"]]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=bench_env())
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return run
