"""QR codes (``segno``) for the TOTP enrolment: an inline SVG for the console pages, block
characters for the terminal (``flask vendor totp``).

The SVG uses presentation attributes only (no ``style=``, no script, no XML declaration),
so a Content-Security-Policy without ``'unsafe-inline'`` shows it; the stylesheet sizes it
through its class (no width/height of its own).
"""
from __future__ import annotations

import io

import segno
from markupsafe import Markup


def _code(data: str) -> segno.QRCode:
    # Error level L: a screen does not smudge, and the lowest level keeps the modules large.
    # A city's otpauth:// URI is long (its Japanese issuer, percent-encoded twice: ~430
    # characters, version 14 = 73 modules).
    return segno.make(data, error="l", micro=False)


def svg(data: str, title: str, css_class: str = "qr") -> Markup:
    """``data`` as an inline ``<svg>`` element (dark on white, 4-module quiet zone) named by ``title``."""
    text = _code(data).svg_inline(
        scale=1, border=4, omitsize=True, svgclass=css_class, lineclass=None, title=title, dark="#000", light="#fff",
    )
    # segno escapes the title and writes nothing else from outside; role=img names it for screen readers.
    return Markup(text.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own markup


def terminal(data: str) -> str:
    """``data`` as a QR code of Unicode block characters, for a terminal."""
    out = io.StringIO()
    _code(data).terminal(out=out, compact=True, border=2)
    return out.getvalue()
