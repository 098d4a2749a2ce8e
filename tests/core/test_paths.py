"""The data folders are found in a checkout, via WATERPORTAL_ROOT, or in the working directory."""
from __future__ import annotations

from pathlib import Path

from waterportal.core.paths import REPO_ROOT, find_root

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_finds_its_own_folders():
    assert REPO_ROOT == ROOT
    assert find_root({}) == ROOT


def test_waterportal_root_wins(tmp_path):
    assert find_root({"WATERPORTAL_ROOT": str(tmp_path)}) == tmp_path.resolve()


def test_an_installed_wheel_uses_the_working_directory(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "waterportal" / "core" / "paths.py"
    monkeypatch.chdir(tmp_path)
    assert find_root({}, source_file=str(installed)) == tmp_path
