"""Blueprints ``health`` (liveness and readiness) and ``theme_assets`` (the current city's
files), both in :mod:`.views`."""
from __future__ import annotations

from flask import Blueprint

health = Blueprint("health", __name__)
theme_assets = Blueprint("theme_assets", __name__)
