"""Where the repository's data folders live (tenants/, themes/, config/)."""
from __future__ import annotations

from pathlib import Path

# platform/waterportal/core/paths.py -> repository root
REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO_ROOT / "config"
TENANTS_DIR = REPO_ROOT / "tenants"
THEMES_DIR = REPO_ROOT / "themes"
