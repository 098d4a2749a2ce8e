"""Where the deployment's data folders live (config/, tenants/, themes/).

In a checkout (``pip install -e .``, the demo, CI) they sit next to ``platform/``. An
installed wheel has no such neighbours: there the folder comes from ``WATERPORTAL_ROOT``,
or is the working directory the service runs in (e.g. ``/srv/waterportal``).
"""
from __future__ import annotations

import os
from pathlib import Path


def find_root(environ: dict | None = None, source_file: str = __file__) -> Path:
    """The folder holding config/, tenants/ and themes/."""
    environ = os.environ if environ is None else environ
    if environ.get("WATERPORTAL_ROOT"):
        return Path(environ["WATERPORTAL_ROOT"]).resolve()
    checkout = Path(source_file).resolve().parents[3]  # platform/waterportal/core/paths.py
    if (checkout / "config" / "default.toml").is_file():
        return checkout
    return Path.cwd()


REPO_ROOT = find_root()
CONFIG_DIR = REPO_ROOT / "config"
TENANTS_DIR = REPO_ROOT / "tenants"
THEMES_DIR = REPO_ROOT / "themes"
