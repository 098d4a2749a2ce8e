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


# The page's own background (portal.css body); text and links on it or on white cards.
PAGE_BACKGROUND = "#f6f7f9"
TEXT_CONTRAST = 4.5


def ink(hex_colour: str, background: str = PAGE_BACKGROUND) -> str:
    """``hex_colour`` if text in it reads at 4.5:1 on ``background`` (and so on white), else
    the same hue darkened in 5 % steps until it does: the city's colour for links, outlined
    buttons and headings on the page, whatever colour the city chose for its header."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        keep = 1 - step / 20
        colour = "#{:02x}{:02x}{:02x}".format(*(round(v * keep) for v in (r, g, b)))
        if contrast_ratio(colour, background) >= TEXT_CONTRAST:
            return colour
    return "#000000"  # pragma: no cover - black always reads on the light page


def css_variables(key: str) -> str | None:
    """The ``:root{--brand:…}`` stylesheet for a :func:`colours_key`, or None when ``key``
    is not one (only six hex digits per colour ever reach the CSS). ``--brand-ink`` is the
    brand colour made readable as text on the page (:func:`ink`): portal.css takes every
    city colour from these four properties."""
    if not COLOURS_KEY.fullmatch(key):
        return None
    values = dict(zip(BRAND_PROPERTIES, (f"#{value}" for value in key.split("-")), strict=True))
    values["--brand-ink"] = ink(values["--brand"])
    return ":root{" + ";".join(f"{name}:{value}" for name, value in values.items()) + "}"
