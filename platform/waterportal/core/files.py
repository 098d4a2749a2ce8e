"""What a file is, told by its leading bytes, and how a private file is handed out.

Every upload check (the console's imports, citizens' attachments) asks :func:`sniff`, never
the file's name or the content type the browser claimed: both are whatever the sender
typed. A private file goes out through :func:`private_download` only: as an attachment
(never shown inline, so a file crafted to look like a page cannot run in the portal's
origin), ``nosniff`` and ``no-store``.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from werkzeug.wrappers import Response

from waterportal.core.web import no_store

PDF, PNG, JPEG, HEIC, GIF, WEBP, ZIP, OLE = (
    "application/pdf", "image/png", "image/jpeg", "image/heic", "image/gif", "image/webp",
    "application/zip", "application/x-ole-storage",
)
# Content type -> the leading bytes that identify it (the file's "magic number").
MAGIC: dict[str, tuple[bytes, ...]] = {
    PDF: (b"%PDF-",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    JPEG: (b"\xff\xd8\xff",),
    GIF: (b"GIF87a", b"GIF89a"),
    ZIP: (b"PK\x03\x04", b"PK\x05\x06"),  # also .xlsx and .docx
    OLE: (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),  # old .xls and .doc
}
# HEIF/HEIC (an iPhone's photos): an ISO box "ftyp" at byte 4 and one of these brands.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")
# What a citizen reads for a type (in refusals and lists).
TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", HEIC: "HEIC", GIF: "GIF", WEBP: "WebP",
              ZIP: "ZIP", OLE: "Office"}
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}


def sniff(data: bytes) -> str | None:
    """The content type ``data`` starts like, or None when it is none of :data:`MAGIC`, HEIC or WebP."""
    for content_type, magics in MAGIC.items():
        if data.startswith(magics):
            return content_type
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return HEIC
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def safe_filename(name: str, fallback: str, limit: int = 120) -> str:
    """The last part of a browser-sent file name, without control characters or path,
    cut to ``limit`` characters (keeping the extension); ``fallback`` when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|*?:').strip(" .")
    if len(base) > limit:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: limit - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:limit]
    return base or fallback


def private_download(data: bytes, filename: str, content_type: str) -> Response:
    """A private file download: attachment with an RFC 5987 name, never stored by caches."""
    response = current_app.response_class(data, mimetype=content_type)
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    no_store(response)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
