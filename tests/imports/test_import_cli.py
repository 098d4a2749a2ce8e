"""``flask import contracts|bills``: summary line, error lines, exit codes, commits."""
from __future__ import annotations

import io
import sys

import pytest

from tests.imports.helpers import (
    NAYORO_NO,
    batches_of,
    bill_row,
    bills_of,
    contract_row,
    contracts_of,
)
from waterportal.imports.cli import _Bars


@pytest.fixture
def contract(nayoro, make_contract):
    return make_contract(nayoro, customer_number=NAYORO_NO)


def test_bills_summary_and_exit_code_zero(app, runner, nayoro, contract, bills_csv):
    path = bills_csv([bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "2026-09")])
    result = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 0, result.output
    batch_id = None
    with app.app_context():
        [batch] = batches_of(nayoro)
        batch_id = batch.id
        assert len(bills_of(nayoro)) == 2  # committed by the command
    assert result.stdout == (
        f"nayoro bills ok: inserted=2 updated=0 unchanged=0 rejected=0 encoding=utf-8 batch={batch_id}\n")
    assert result.stderr == ""
    again = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(path)])
    assert again.exit_code == 0
    assert "inserted=0 updated=0 unchanged=2 rejected=0 encoding=utf-8" in again.stdout


def test_rejected_file_prints_every_error_and_exits_1(app, runner, nayoro, contract, bills_csv):
    # Bills hold no text, so a Japanese month in the wrong format makes the file really CP932.
    rows = [bill_row(NAYORO_NO, "2026-08"), bill_row(NAYORO_NO, "令和8年9月"),
            bill_row(NAYORO_NO, "2026-09", total="1", tax="0")]
    path = bills_csv(rows, encoding="cp932")
    result = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 3: billing_month: 請求月は YYYY-MM の形式で入力してください: '令和8年9月'",
        "line 4: total: 合計 1 が水道料金 + 下水道料金 (3000 + 2000 = 5000) と一致しません",
    ]
    assert "nayoro bills rejected: inserted=0 updated=0 unchanged=0 rejected=2 encoding=cp932" in result.stdout
    with app.app_context():
        assert bills_of(nayoro) == []
        [batch] = batches_of(nayoro)  # the rejected batch is committed
        assert (batch.status, batch.actor, batch.filename) == ("rejected", "vendor:cli", path.name)


def test_contracts_command(app, runner, nayoro, contracts_csv):
    path = contracts_csv([contract_row(NAYORO_NO), contract_row("01234567891")], encoding="utf-8-sig")
    result = runner.invoke(args=["import", "contracts", "--tenant", "nayoro", str(path)])
    assert result.exit_code == 0, result.output
    assert "nayoro contracts ok: inserted=2 updated=0 unchanged=0 rejected=0 encoding=utf-8-sig" in result.stdout
    with app.app_context():
        assert [c.customer_number for c in contracts_of(nayoro)] == [NAYORO_NO, "01234567891"]


def test_bad_arguments_exit_2(runner, tmp_path, contracts_csv):
    path = contracts_csv([contract_row(NAYORO_NO)])
    unknown = runner.invoke(args=["import", "contracts", "--tenant", "sapporo", str(path)])
    assert unknown.exit_code == 2
    assert "no city with slug 'sapporo'" in unknown.output
    missing = runner.invoke(args=["import", "bills", "--tenant", "nayoro", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    no_tenant = runner.invoke(args=["import", "bills", str(path)])
    assert no_tenant.exit_code == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_draw_one_bar_per_phase_on_a_terminal(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    bars = _Bars()
    for done in (5000, 10000, 12000):
        bars("validate", done, 12000)
    bars("write", 12000, 12000)
    bars.close()
    drawn = terminal.getvalue()
    assert drawn.index("validating") < drawn.index("writing")
    assert drawn.count("100%") == 2
