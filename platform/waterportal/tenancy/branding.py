"""Branding tokens: colours become CSS custom properties; WCAG contrast checks."""
from __future__ import annotations


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


def css_variables(branding: dict) -> str:
    """Render the branding section as a ``:root{--…}`` block (values validated by the schema)."""
    pairs = {
        "--brand": branding.get("primary_color", "#005a9c"),
        "--brand-text": branding.get("primary_text_color", "#ffffff"),
        "--accent": branding.get("accent_color", "#b3421a"),
    }
    return ":root{" + ";".join(f"{k}:{v}" for k, v in pairs.items()) + "}"
