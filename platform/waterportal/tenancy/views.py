"""Host-independent health check, theme static files, city colours and assets (logo)."""
from __future__ import annotations

import re
from pathlib import Path

from flask import abort, current_app, jsonify, request, send_from_directory
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from waterportal.core.database import RETRY_AFTER_DOWN, is_unavailable
from waterportal.extensions import db
from waterportal.tenancy.blueprint import health, theme_assets
from waterportal.tenancy.branding import css_variables
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.models import TenantAsset


@health.get("/healthz")
def healthz():
    """200 when the database answers, else 503 saying it is down; for the load balancer on
    any host. It names no city and no person, only the state of each part."""
    try:
        db.session.execute(text("SELECT 1"))
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        try:
            db.session.rollback()
        except DBAPIError:
            pass  # the connection is gone; the pool replaces it (invalidated on the disconnect)
        response = jsonify(status="down", database="down")
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_DOWN)
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@theme_assets.get("/_theme/<theme>/<path:filename>")
def static(theme: str, filename: str):
    """Static files of a theme (CSS, icons). Cached for a day; names are safe-joined."""
    root = Path(current_app.config["THEMES_DIR"]) / theme / "static"
    return send_from_directory(root, filename, max_age=86400)


@theme_assets.get("/_brand.css")
def brand_css():
    """A city's colours as CSS custom properties, from the key in ``?c=`` (see
    :func:`~waterportal.tenancy.branding.colours_key`): a file, so the pages need no inline
    style under the Content-Security-Policy. The key is the content, so it is cached for good,
    and the console's preview of unsaved colours links its own key."""
    css = css_variables(request.args.get("c", ""))
    if css is None:
        abort(404)
    response = current_app.response_class(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@theme_assets.get("/_core/<path:filename>")
def core_static(filename: str):
    """The platform's own files (the plain error page's stylesheet), on any host: that
    page is the answer to unknown hosts."""
    return send_from_directory(Path(current_app.root_path) / "static", filename, max_age=86400)


# Upload names are "<sha256 prefix>.<ext>"; anything else (a NUL, which PostgreSQL refuses
# in a query, or 5,000 characters) is no upload and never reaches the database.
UPLOAD_NAME = re.compile(r"[0-9A-Za-z_-]{1,80}\.[0-9a-z]{1,10}")

# Uploaded files are images a city admin chose; this policy keeps an SVG from running
# script or loading anything even when opened directly.
UPLOAD_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def uploaded_asset(name: str):
    """A file uploaded in the city's console (stored in the database, scoped to the city)."""
    asset = None
    if UPLOAD_NAME.fullmatch(name):
        asset = db.session.scalar(select(TenantAsset).where(TenantAsset.tenant_id == current_tenant().id, TenantAsset.name == name))
    if asset is None:
        abort(404)
    response = current_app.response_class(asset.data, mimetype=asset.content_type)
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Content-addressed names never change, so they can be cached for long.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@theme_assets.get("/_tenant/<path:filename>")
def tenant_asset(filename: str):
    """Files of the current city only (``tenants/<slug>/assets``, or uploads), e.g. its logo."""
    if filename.startswith("uploads/"):
        return uploaded_asset(filename.removeprefix("uploads/"))
    root = Path(current_app.config["TENANTS_DIR"]) / current_tenant().slug / "assets"
    return send_from_directory(root, filename, max_age=3600)
