"""A tiny run of bench/bench_fanout.py, so `make test` keeps it working: 300 members, one
round, every figure measured beside its baseline (on PostgreSQL behind row-level security).
The real figures (50,000 members) are in docs/performance.md, section Mail fan-out."""
from __future__ import annotations

from pathlib import Path

from tests.bench_support import run_smoke

ROOT = Path(__file__).resolve().parents[1]


def test_bench_fanout_smoke_run_measures_every_figure(tmp_path):
    doc = tmp_path / "performance.md"
    run = run_smoke("bench_fanout.py", doc)
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 6, run.stdout
    statements = rows[2].split("|")
    assert statements[2].strip() == statements[3].strip().split()[0], run.stdout  # constant, not per member
    written = doc.read_text(encoding="utf-8")
    assert "## Mail fan-out" in written and rows[1] in written
