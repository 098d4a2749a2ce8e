"""The repository layout the customer's design card asks for."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_platform_is_the_standard_library_from_repo_root():
    code = "import platform, sys; print(platform.__file__); print(platform.python_version())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    module_file, version = out.stdout.split()
    assert not module_file.startswith(str(ROOT)), module_file
    assert version == ".".join(map(str, sys.version_info[:3]))


def test_platform_folder_is_a_source_root_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "waterportal" / "__init__.py").is_file()


def test_wsgi_exposes_app_for_gunicorn(tmp_path):
    code = "import wsgi; print(type(wsgi.app).__name__)"
    env = {"PATH": "/usr/bin:/bin", "WATERPORTAL_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Flask"


def test_production_refuses_to_start_without_secret_key(tmp_path):
    code = "import wsgi"
    env = {"PATH": "/usr/bin:/bin", "WATERPORTAL_ENV": "production", "WATERPORTAL_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "FLASK_SECRET_KEY" in out.stderr
