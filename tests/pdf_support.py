"""Reading issued PDFs back as a viewer and a scanner would: which fonts a page uses (and
whether they are embedded), and the barcodes on a page rendered to pixels (pypdfium2, which
bundles PDFium in its wheel, then zxing-cpp)."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from waterportal.core.pdf_font import DEFAULT_FONT_PATH


def fonts_of(data: bytes) -> list[dict]:
    """The fonts page 1 references: their /BaseFont and whether the TrueType file is embedded."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font.get("/FontDescriptor")
        found.append({"name": str(font["/BaseFont"]),
                      "embedded": bool(descriptor and "/FontFile2" in descriptor.get_object())})
    return found


def require_embedded_font() -> None:
    """Skip where the font to embed is not installed (CI installs it and fails instead)."""
    if not Path(DEFAULT_FONT_PATH).is_file():
        message = ("embedding needs the IPAex font: apt-get install fonts-ipaexfont-gothic "
                   "(REQUIRE_PDF_FONT=1 makes this an error)")
        if os.environ.get("REQUIRE_PDF_FONT") == "1":
            pytest.fail(message)
        pytest.skip(message)


def assert_japanese_font_embedded(data: bytes) -> None:
    """Japanese text is set in an embedded IPAexGothic subset; besides it only reportlab's
    standard-14 Helvetica is referenced, never a CJK font the viewer must supply."""
    require_embedded_font()
    fonts = {f["name"]: f["embedded"] for f in fonts_of(data)}
    japanese = [name for name in fonts if name.endswith("+IPAexGothic")]
    assert japanese and all(fonts[name] and re.match(r"/[A-Z]{6}\+", name) for name in japanese), fonts  # subsets
    assert set(fonts) - set(japanese) <= {"/Helvetica"} and "HeiseiKakuGo" not in str(fonts), fonts


def barcodes_in_pdf(data: bytes, *, dpi: int = 300) -> list:
    """What a scanner reads on each page printed at ``dpi``."""
    document = pypdfium2.PdfDocument(data)
    try:
        found = []
        for page in document:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            found += zxingcpp.read_barcodes(image)
        return found
    finally:
        document.close()
