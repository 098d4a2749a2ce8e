"""The Japanese font embedded in the portal's issued PDFs.

IPAexGothic (IPAex フォント, IPA Font License) as a TrueType file: reportlab embeds a TTF
as a subset of the glyphs a document uses (reportlab cannot subset OpenType/CFF fonts, so
Noto Sans CJK's .otf is no choice), so a bill opens the same in every viewer and stays small
(about 30-60 KB with the subset). The file comes from Debian's ``fonts-ipaexfont-gothic``,
which ``.ci/run`` installs and docs/operations.md asks for; the path can be changed with the
``PDF_FONT_PATH`` setting (another TTF with Japanese glyphs).
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app, has_app_context
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEFAULT_FONT_PATH = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
FONT_NAME = "IPAexGothic"


class FontMissing(RuntimeError):
    """The configured font file is not there (install fonts-ipaexfont-gothic)."""


def font_path() -> Path:
    configured = current_app.config.get("PDF_FONT_PATH") if has_app_context() else None
    return Path(configured or DEFAULT_FONT_PATH)


def japanese_font() -> str:
    """Register the embedded Japanese font once per process; return its reportlab name."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = font_path()
        if not path.is_file():
            raise FontMissing(f"the PDF font {path} is missing: apt-get install fonts-ipaexfont-gothic "
                              "(or set PDF_FONT_PATH to a Japanese TrueType font)")
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path)))
    return FONT_NAME
