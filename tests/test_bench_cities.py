"""A tiny run of bench/bench_cities.py (and so of bench/generate.py), so `make test` keeps
them working: 12 cities generated in bulk, read by the app (on PostgreSQL as
waterportal_app, behind row-level security), every figure measured beside its baseline.
The real figures (1,741 cities) are in docs/performance.md, section Cities."""
from __future__ import annotations

from pathlib import Path

from tests.bench_support import run_smoke

ROOT = Path(__file__).resolve().parents[1]


def test_bench_cities_smoke_run_measures_every_figure(tmp_path):
    doc = tmp_path / "performance.md"
    run = run_smoke("bench_cities.py", doc)
    assert "generated 12 cities" in run.stdout
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    figures = [row.split("|")[1].strip() for row in rows[1:]]
    assert len(figures) == 5 and figures[0] == "`flask tenant list`", run.stdout
    written = doc.read_text(encoding="utf-8")
    assert "## Cities" in written and "<!-- bench_cities:start -->" in written and rows[1] in written
