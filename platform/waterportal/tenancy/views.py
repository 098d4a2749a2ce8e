"""Host-independent health check, theme static files and city assets (logo)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, send_from_directory
from sqlalchemy import text

from waterportal.extensions import db

health = Blueprint("health", __name__)
theme_assets = Blueprint("theme_assets", __name__)


@health.get("/healthz")
def healthz():
    """200 when the database answers; used by the load balancer on any host."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@theme_assets.get("/_theme/<theme>/<path:filename>")
def static(theme: str, filename: str):
    """Static files of a theme (CSS, icons). Cached for a day; names are safe-joined."""
    root = Path(current_app.config["THEMES_DIR"]) / theme / "static"
    return send_from_directory(root, filename, max_age=86400)


@theme_assets.get("/_tenant/<path:filename>")
def tenant_asset(filename: str):
    """Files of the current city only (``tenants/<slug>/assets``), e.g. its logo."""
    root = Path(current_app.config["TENANTS_DIR"]) / g.tenant.slug / "assets"
    return send_from_directory(root, filename, max_age=3600)
