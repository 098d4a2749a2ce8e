"""Logo uploads: PNG, JPEG or SVG, at most LOGO_MAX_BYTES, checked by content, not by name.

Uploaded files go into the database (:class:`TenantAsset`), not into ``tenants/<slug>/assets``:
that folder is deployed code, shared by nothing between machines and replaced on every
release, whereas the database is the one store every worker already shares. Names are
content-addressed (``<sha256 prefix>.<ext>``) and rows never change, so a settings
rollback can point back at an older logo and the file can be cached for good.

SVG is XML that can carry script: an uploaded SVG with a DOCTYPE, entities, script,
event handlers, foreign objects or references to anything outside itself is refused,
and uploads are served with a sandboxing Content-Security-Policy as well.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from xml.etree import ElementTree

from flask import current_app
from sqlalchemy import select

from waterportal.audit import services as audit
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import TenantAsset

LOGO_MAX_BYTES = 256 * 1024
UPLOAD_PREFIX = "uploads/"
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}
SVG_NS = "{http://www.w3.org/2000/svg}"
FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
NAME = re.compile(r"^[0-9a-f]{16}\.(png|jpg|svg)$")


class AssetRefused(ValueError):
    """An upload was refused; the message is Japanese and shown next to the file field."""


def _svg_problem(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "SVG は UTF-8 で保存してください。"
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return "DOCTYPE や ENTITY を含む SVG は使用できません。"
    try:
        # No DTD can reach the parser (refused above), so entity expansion attacks cannot either.
        root = ElementTree.fromstring(text)  # noqa: S314 - DOCTYPE/ENTITY refused above
    except ElementTree.ParseError:
        return "SVG として読み込めません。"
    if root.tag != f"{SVG_NS}svg":
        return "SVG として読み込めません。"
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in FORBIDDEN_TAGS:
            return f"<{tag}> を含む SVG は使用できません。"
        for attr, value in element.attrib.items():
            name = attr.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                return "スクリプト(イベント属性)を含む SVG は使用できません。"
            if name == "href" and not value.strip().startswith("#"):
                return "外部のファイルを参照する SVG は使用できません。"
            if "url(" in value.replace(" ", "").lower() and not re.fullmatch(r"url\(\s*#[\w-]+\s*\)", value.strip()):
                return "外部のファイルを参照する SVG は使用できません。"
        if tag == "style" and element.text and re.search(r"url\(|@import", element.text, re.IGNORECASE):
            return "外部のファイルを参照する SVG は使用できません。"
    return None


def sniff(data: bytes) -> str | None:
    """The file type by its first bytes: ``png``, ``jpg``, ``svg`` or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg")):
        return "svg"
    return None


def store_logo(data: bytes, actor: str, remote_addr: str = "") -> str:
    """Check and store an uploaded logo; return its setting value (``uploads/<name>``). Raises AssetRefused."""
    if not data:
        raise AssetRefused("ファイルを選択してください。")
    if len(data) > LOGO_MAX_BYTES:
        raise AssetRefused(f"ファイルが大きすぎます({LOGO_MAX_BYTES // 1024}KB 以下にしてください)。")
    kind = sniff(data)
    if kind is None:
        raise AssetRefused("PNG・JPEG・SVG 形式の画像を選択してください。")
    if kind == "svg":
        problem = _svg_problem(data)
        if problem:
            raise AssetRefused(problem)
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{kind}"
    existing = db.session.scalar(select(TenantAsset).where(TenantAsset.name == name))
    if existing is None:
        db.session.add(TenantAsset(name=name, content_type=CONTENT_TYPES[kind], data=data, size=len(data), created_by=actor))
        db.session.flush()
        audit.record(actor, "asset.upload", target=UPLOAD_PREFIX + name, remote_addr=remote_addr, size=len(data))
    return UPLOAD_PREFIX + name


def logo_available(tenant: TenantContext, value: str) -> bool:
    """Whether ``value`` names a logo of this city: none, an uploaded one, or a file in its assets/."""
    if value == "":
        return True
    if value.startswith(UPLOAD_PREFIX):
        name = value.removeprefix(UPLOAD_PREFIX)
        return bool(NAME.match(name)) and db.session.scalar(
            select(TenantAsset.id).where(TenantAsset.name == name)
        ) is not None
    root = (Path(current_app.config["TENANTS_DIR"]) / tenant.slug / "assets").resolve()
    try:
        path = (root / value).resolve()
        return path.is_relative_to(root) and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        return False
