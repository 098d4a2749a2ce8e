"""A tiny run of bench/bench_insight.py, so `make test` keeps it working: 300 contracts, one
round, the import with the insight steps on beside the same import with them off (on
PostgreSQL behind row-level security). The real figures (50,000 contracts) are in
docs/performance.md, section "Usage insight at import"."""
from __future__ import annotations

from tests.bench_support import run_smoke


def test_bench_insight_smoke_run_measures_on_against_off(tmp_path):
    doc = tmp_path / "performance.md"
    run = run_smoke("bench_insight.py", doc)
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 4, run.stdout  # the header and three figures
    assert "with the insight steps / without" in rows[1] and "(insight off)" in rows[1]
    written = doc.read_text(encoding="utf-8")
    assert "## Usage insight at import (issue 14)" in written and rows[1] in written
