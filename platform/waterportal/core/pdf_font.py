"""The Japanese font embedded in the portal's issued PDFs.

IPAexGothic (IPAex フォント, IPA Font License) as a TrueType file: reportlab embeds a TTF
as a subset of the glyphs a document uses (reportlab cannot subset OpenType/CFF fonts, so
Noto Sans CJK's .otf is no choice), so a bill opens the same in every viewer and stays small
(about 30-60 KB with the subset). The file comes from Debian's ``fonts-ipaexfont-gothic``,
which ``.ci/run`` installs and docs/operations.md asks for; the path can be changed with the
``PDF_FONT_PATH`` setting (another TTF with Japanese glyphs).
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app, has_app_context
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

DEFAULT_FONT_PATH = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
FONT_NAME = "IPAexGothic"


FALLBACK_FONT = "HeiseiKakuGo-W5"  # reportlab's CID font: named in the PDF, not embedded
log = logging.getLogger("waterportal.pdf")


class FontMissing(RuntimeError):
    """The configured font file is not there (install fonts-ipaexfont-gothic)."""


def font_path() -> Path:
    configured = current_app.config.get("PDF_FONT_PATH") if has_app_context() else None
    return Path(configured or DEFAULT_FONT_PATH)


def font_available() -> bool:
    """Whether the TrueType font to embed is installed."""
    return font_path().is_file()


def japanese_font() -> str:
    """Register the embedded Japanese font once per process; return its reportlab name.

    Without the font file (a developer's machine without fonts-ipaexfont-gothic) the PDFs use
    reportlab's CID font, which viewers supply, and one warning says what to install: the demo
    and the tests still run there. Production and CI install the font (docs/operations.md,
    .ci/run), so what they issue carries it."""
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT_NAME in registered:
        return FONT_NAME
    path = font_path()
    if path.is_file():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path)))
        return FONT_NAME
    if FALLBACK_FONT not in registered:
        log.warning("the PDF font %s is missing: PDFs name %s instead of embedding a font "
                    "(apt-get install fonts-ipaexfont-gothic, or set PDF_FONT_PATH)", path, FALLBACK_FONT)
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT
