"""Issue 13 #9: each city's favicon, app icons and web app manifest, from its logo."""
from __future__ import annotations

import dataclasses
import io
import json

import pytest
from PIL import Image

from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.icons import encoded_icon
from waterportal.tenancy.registry import _freeze


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_favicon_icons_and_manifest_answer_on_each_citys_host(client_for, clock, slug, request):
    tenant = request.getfixturevalue(slug)
    client = client_for(slug)
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/x-icon"
    with Image.open(io.BytesIO(favicon.data)) as ico:
        assert ico.format == "ICO" and (48, 48) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.data)
    assert body["name"] == tenant.portal_name and body["lang"] == "ja" and body["display"] == "standalone"
    for entry, size in zip(body["icons"], (192, 512), strict=True):
        answer = client.get(entry["src"])
        with Image.open(io.BytesIO(answer.data)) as png:
            assert answer.mimetype == "image/png" and png.size == (size, size) and entry["sizes"] == f"{size}x{size}"
    with Image.open(io.BytesIO(client.get("/apple-touch-icon.png").data)) as touch:
        assert touch.size == (180, 180)
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico" sizes="any">' in page and 'rel="manifest"' in page


def test_the_icon_is_the_citys_logo_and_differs_per_city(app, nayoro, kanazawa):
    with app.test_request_context():
        icons = {}
        for tenant in (nayoro, kanazawa):
            with tenant_context(tenant):
                icons[tenant.slug] = Image.open(io.BytesIO(encoded_icon(tenant, 192, "PNG"))).convert("RGB")
    assert icons["nayoro"].getpixel((2, 2)) == (255, 255, 255)  # the logo on white
    for icon in icons.values():  # the logo fills the square but its padding
        white = icon.histogram()[255] + icon.histogram()[511] + icon.histogram()[767]  # per-band counts of 255
        drawn = 192 * 192 - white // 3
        assert drawn > 192 * 192 // 10
    assert icons["nayoro"].tobytes() != icons["kanazawa"].tobytes()  # each city's own logo


def test_a_city_without_a_readable_logo_gets_its_brand_colour(app, nayoro):
    for logo in ("", "logo.svg", "../../nayoro/tenant.toml"):
        settings = {**nayoro.settings, "branding": {**nayoro.settings["branding"], "logo": logo}}
        city = dataclasses.replace(nayoro, settings=_freeze(settings), version=nayoro.version + 1000 + len(logo))
        with app.test_request_context(), tenant_context(city):
            icon = Image.open(io.BytesIO(encoded_icon(city, 192, "PNG"))).convert("RGB")
        assert icon.getpixel((96, 96)) == (0x0b, 0x5e, 0x8e), logo  # Nayoro's primary colour
