"""A city's favicon, app icons and web app manifest, made from its logo (issue 13 #9).

``/favicon.ico`` (16, 32 and 48 px), ``/apple-touch-icon.png`` (180 px), ``/icon-192.png`` and
``/icon-512.png`` are the city's logo (``[branding] logo``: a file of ``tenants/<slug>/assets``
or an upload of the console) centred on a white square; a city without a logo Pillow can read
gets a square in its brand colour. ``/manifest.webmanifest`` names the portal and those icons
so a citizen can add the portal to a phone's home screen. The images are drawn once per city
and settings version and kept in memory (a few kilobytes each; a worker serving 200 cities
holds about 200 × 4 of them).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from flask import current_app, url_for
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from waterportal.extensions import db
from waterportal.tenancy.blueprint import theme_assets
from waterportal.tenancy.branding import BRAND_PROPERTIES
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.models import TenantAsset

PNG_SIZES = {"apple-touch-icon": 180, "icon-192": 192, "icon-512": 512}
ICO_SIZES = [(16, 16), (32, 32), (48, 48)]
PADDING = 0.08  # of the side, around the logo


def logo_bytes(tenant: TenantContext) -> bytes | None:
    """The bytes of the city's logo, or None when it has none (or it is missing). A name that
    leaves the city's assets folder is no logo."""
    name = tenant.settings.get("branding", {}).get("logo", "")
    if not name:
        return None
    if name.startswith("uploads/"):
        return db.session.scalar(select(TenantAsset.data).where(
            TenantAsset.tenant_id == tenant.id, TenantAsset.name == name.removeprefix("uploads/")))
    root = (Path(current_app.config["TENANTS_DIR"]) / tenant.slug / "assets").resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path.read_bytes()


def _brand(tenant: TenantContext) -> str:
    key, default = BRAND_PROPERTIES["--brand"]
    return tenant.settings.get("branding", {}).get(key, default)


def _square(size: int, logo: bytes | None, brand: str) -> Image.Image:
    """The icon at ``size`` px: the logo on white, or a square of the brand colour."""
    if logo:
        try:
            with Image.open(io.BytesIO(logo)) as source:
                picture = source.convert("RGBA")
        except (UnidentifiedImageError, OSError):  # an SVG logo, or a broken file
            picture = None
        if picture is not None:
            canvas = Image.new("RGBA", (size, size), (255, 255, 255, 255))
            inner = max(1, round(size * (1 - 2 * PADDING)))
            picture.thumbnail((inner, inner), Image.Resampling.LANCZOS)
            canvas.alpha_composite(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
            return canvas
    return Image.new("RGBA", (size, size), brand)


# (slug, settings version, format, size) -> the encoded image; a new version (a new logo) is a new key.
_drawn: dict[tuple[str, int, str, int], bytes] = {}
MAX_DRAWN = 1024


def encoded_icon(tenant: TenantContext, size: int, image_format: str) -> bytes:
    """The city's icon at ``size`` px as PNG or ICO bytes, drawn once per settings version."""
    key = (tenant.slug, tenant.version, image_format, size)
    data = _drawn.get(key)
    if data is None:
        buffer = io.BytesIO()
        picture = _square(size, logo_bytes(tenant), _brand(tenant))
        if image_format == "ICO":
            picture.save(buffer, format="ICO", sizes=ICO_SIZES)
        else:
            picture.save(buffer, format="PNG", optimize=True)
        if len(_drawn) >= MAX_DRAWN:
            _drawn.clear()
        data = _drawn[key] = buffer.getvalue()
    return data


def _image_response(data: bytes, mimetype: str):
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@theme_assets.get("/favicon.ico")
def favicon():
    """The city's favicon (no more 404 on every page)."""
    return _image_response(encoded_icon(current_tenant(), 48, "ICO"), "image/x-icon")


def _png(name: str):
    return _image_response(encoded_icon(current_tenant(), PNG_SIZES[name], "PNG"), "image/png")


@theme_assets.get("/apple-touch-icon.png")
def apple_touch_icon():
    return _png("apple-touch-icon")


@theme_assets.get("/icon-192.png")
def icon_192():
    return _png("icon-192")


@theme_assets.get("/icon-512.png")
def icon_512():
    return _png("icon-512")


@theme_assets.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: the portal's name, the city's icons and colour."""
    tenant = current_tenant()
    body = {
        "name": tenant.portal_name,
        "short_name": tenant.portal_name if len(tenant.portal_name) <= 12 else f"{tenant.name}の水道",
        "lang": "ja",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": _brand(tenant),
        "icons": [
            {"src": url_for("theme_assets.icon_192"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": url_for("theme_assets.icon_512"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
