"""Branding tokens: colours become CSS custom properties; WCAG contrast checks."""
from __future__ import annotations

import re


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# The branding keys that become CSS custom properties, with the platform's defaults.
BRAND_PROPERTIES = {
    "--brand": ("primary_color", "#005a9c"),
    "--brand-text": ("primary_text_color", "#ffffff"),
    "--accent": ("accent_color", "#b3421a"),
}
COLOURS_KEY = re.compile("-".join([r"[0-9a-f]{6}"] * len(BRAND_PROPERTIES)))


def colours_key(branding: dict) -> str:
    """The branding's colours as one URL-safe key (``005a9c-ffffff-b3421a``): the pages link
    the stylesheet by it, so a changed colour is a new URL and the old one can be cached for good."""
    return "-".join(branding.get(key, default).lstrip("#").lower() for key, default in BRAND_PROPERTIES.values())


def css_variables(key: str) -> str | None:
    """The ``:root{--brand:…}`` stylesheet for a :func:`colours_key`, or None when ``key``
    is not one (only six hex digits per colour ever reach the CSS)."""
    if not COLOURS_KEY.fullmatch(key):
        return None
    pairs = zip(BRAND_PROPERTIES, key.split("-"), strict=True)
    return ":root{" + ";".join(f"{name}:#{value}" for name, value in pairs) + "}"
