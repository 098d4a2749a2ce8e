"""The two commands as a newcomer meets them: what `make demo` and `make test` would run.

Read from `make -n -B` (print every recipe, run none), so no venv, database or port is touched.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

def _make(*args: str, **env: str) -> str:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DEMO_", "FLASK_", "MAKE"))}
    out = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                         env={**clean, **env}, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_demo_installs_the_app_and_its_mail_catcher_without_the_test_extra():
    recipes = _make("-n", "-B", "demo")
    assert "pip install --quiet -e '.[demo]'" in recipes
    assert "[test]" not in recipes


def test_test_installs_the_test_extra():
    assert "pip install --quiet -e '.[test]'" in _make("-n", "-B", "test")


def _demo_settings(*args: str, **env: str) -> str:
    show = "demo-settings: ; @echo $$FLASK_MAIL_PORT $(DEMO_MAIL) $$FLASK_PORTAL_BASE_URL"
    return _make("-s", "--eval", show, "demo-settings", *args, **env).strip()


def test_the_default_demo_mails_to_the_catcher_on_8025():
    assert _demo_settings() == "8025 demo-mail http://{host}:8000"
    assert "--port 8025 --dir demo-mail " in _make("-n", "-B", "serve")


@pytest.mark.parametrize("how", ["arguments", "environment"])
def test_a_second_demo_has_its_own_mailbox(how):
    # Two demos on one machine once shared port 8025: one demo's codes reached the other's catcher.
    settings = {"DEMO_BIND": "127.0.0.1:8001", "DEMO_MAIL_PORT": "8026"}
    args = [f"{key}={value}" for key, value in settings.items()] if how == "arguments" else []
    env = settings if how == "environment" else {}
    assert _demo_settings(*args, **env) == "8026 demo-mail-8026 http://{host}:8001"
    serve = _make("-n", "-B", "serve", *args, **env)
    assert "--port 8026 --dir demo-mail-8026 " in serve
    assert "-b 127.0.0.1:8001 " in serve
