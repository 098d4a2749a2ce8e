"""Real small files for attachment tests, made in the test (no fixtures on disk)."""
from __future__ import annotations

import io
import zipfile

from PIL import Image
from reportlab.pdfgen import canvas


def image_bytes(fmt: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def jpeg() -> bytes:
    return image_bytes("JPEG")


def png() -> bytes:
    return image_bytes("PNG")


def gif() -> bytes:
    return image_bytes("GIF")


def webp() -> bytes:
    return image_bytes("WEBP")


def pdf(text: str = "receipt") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def heic() -> bytes:
    """The leading boxes of an iPhone photo (ftyp heic, then meta): Pillow cannot write HEIC,
    and the check reads only these bytes."""
    ftyp = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    return ftyp + b"\x00\x00\x01\x00meta" + b"\x00" * 248


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><script>alert(1)</script>"
