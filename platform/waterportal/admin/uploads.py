"""Checking an uploaded export before the import service sees it: size, type by content,
and unpacking a documents ZIP safely into a temporary folder.

The import services themselves (imports/services.py, imports/documents.py) are the same
ones the CLI calls; this module only turns an upload into what they take (bytes for a
CSV, a folder for documents).
"""
from __future__ import annotations

import contextlib
import io
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from flask import current_app

from waterportal.audit import services as audit
from waterportal.billing.documents import MAX_DOCUMENT_BYTES
from waterportal.core.files import ZIP, sniff
from waterportal.imports.documents import INDEX_NAME, import_documents
from waterportal.imports.readings import import_readings
from waterportal.imports.services import ImportResult, import_bills, import_contracts
from waterportal.tenancy.context import TenantContext, tenant_context

CSV_MAX_BYTES = 30 * 1024 * 1024  # 100,000 bill rows are about 12 MB
ZIP_MAX_BYTES = 45 * 1024 * 1024
# What a documents ZIP may unpack to: stops "zip bombs" whatever their headers claim.
ZIP_UNPACKED_MAX_BYTES = 300 * 1024 * 1024
ZIP_MAX_ENTRIES = 5000
JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")


class UploadRefused(ValueError):
    """The upload cannot be imported; the message (Japanese) goes next to the file field."""


def _mb(size: int) -> int:
    return size // (1024 * 1024)


def size_limit(kind: str) -> int:
    """The per-form limit for ``kind``, never above the app's MAX_CONTENT_LENGTH."""
    limit = ZIP_MAX_BYTES if kind == "documents" else CSV_MAX_BYTES
    app_limit = current_app.config.get("MAX_CONTENT_LENGTH") or limit
    return min(limit, app_limit)


def check_upload(kind: str, data: bytes) -> None:
    """Refuse an empty, too large or wrongly typed file (by content, not by name)."""
    if not data:
        raise UploadRefused("ファイルが空です。")
    limit = size_limit(kind)
    if len(data) > limit:
        raise UploadRefused(f"ファイルが大きすぎます({_mb(len(data))} MB)。{_mb(limit)} MB までのファイルを選択してください。")
    if kind == "documents":
        if sniff(data) != ZIP:
            raise UploadRefused("ZIP ファイルではありません。documents.csv と書類のファイルを ZIP にまとめて選択してください。")
        return
    head = data[:65536]
    if sniff(head) is not None or b"\x00" in head:
        raise UploadRefused("CSV ファイルではありません(テキスト形式の CSV を選択してください)。")


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; Windows' Japanese ZIPs store CP932 names without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("cp932")
    return name.replace("\\", "/")


def _safe_parts(name: str) -> tuple[str, ...]:
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or any(":" in p for p in parts):
        raise UploadRefused(f"ZIP の中に使えない名前のファイルがあります: '{name}'")
    return parts


def _extract(archive: zipfile.ZipFile, root: Path) -> None:
    entries = archive.infolist()
    if len(entries) > ZIP_MAX_ENTRIES:
        raise UploadRefused(f"ZIP の中のファイルが多すぎます({ZIP_MAX_ENTRIES} 件まで)。")
    budget = ZIP_UNPACKED_MAX_BYTES
    for info in entries:
        name = _entry_name(info)
        if info.is_dir() or any(name.startswith(j) or name.endswith("/" + j) or name == j for j in JUNK):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRefused(f"ZIP の中のリンク(シンボリックリンク)は取り込めません: '{name}'")
        target = root.joinpath(*_safe_parts(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        cap = min(budget, MAX_DOCUMENT_BYTES * 2)
        # Count what is really written, not what the header claims.
        with archive.open(info) as source, open(target, "wb") as sink:
            written = 0
            while chunk := source.read(65536):
                written += len(chunk)
                if written > cap:
                    raise UploadRefused(f"ZIP の中のファイルが大きすぎます: '{name}'")
                sink.write(chunk)
        budget -= written


def _index_folder(root: Path) -> Path:
    if (root / INDEX_NAME).is_file():
        return root
    folders = [p for p in root.iterdir() if p.is_dir()]
    if len(folders) == 1 and (folders[0] / INDEX_NAME).is_file():
        return folders[0]  # a zipped folder: the index is one level down
    raise UploadRefused(f"ZIP の中に {INDEX_NAME} がありません(先頭、またはフォルダ1つの中に置いてください)。")


@contextlib.contextmanager
def unpacked_documents(data: bytes) -> Iterator[Path]:
    """Unpack a documents ZIP into a temporary folder, yield the folder holding documents.csv,
    and remove everything afterwards."""
    root = Path(tempfile.mkdtemp(prefix="wp-documents-"))
    try:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise UploadRefused("ZIP ファイルとして読み込めません。") from None
        with archive:
            try:
                _extract(archive, root)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise UploadRefused(f"ZIP ファイルを展開できません({exc})。") from None
        yield _index_folder(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)



def import_upload(
    tenant: TenantContext, kind: str, filename: str, data: bytes, actor: str, remote_addr: str = "",
) -> ImportResult:
    """Run an uploaded export through the import service the CLI uses; audit it.

    Returns the service's ImportResult (its ImportBatch is flushed; the caller commits).
    Raises UploadRefused for a file that cannot be handed to the service at all.
    """
    check_upload(kind, data)
    name = PurePosixPath(filename.replace("\\", "/")).name[:200] or f"{kind}.csv"
    if kind == "contracts":
        result = import_contracts(tenant, data, filename=name, actor=actor)
    elif kind == "bills":
        result = import_bills(tenant, data, filename=name, actor=actor)
    elif kind == "readings":
        result = import_readings(tenant, data, filename=name, actor=actor)
    else:
        with unpacked_documents(data) as folder:
            result = import_documents(tenant, folder, filename=name, actor=actor)
    with tenant_context(tenant):
        audit.record(actor, "import.upload", target=f"import:{result.batch_id}", remote_addr=remote_addr,
                     kind=kind, filename=name, status=result.status, rows=result.rows, inserted=result.inserted,
                     updated=result.updated, unchanged=result.unchanged, rejected=result.rejected)
    return result
