"""Files a citizen sends with a procedure (減免・漏水減額: a photo of the repaired pipe, the
repair receipt): checked by content, counted and sized against the city's limits.

- **Type by content**: :func:`waterportal.core.files.sniff` reads the leading bytes; the
  file's name and the content type the browser sent are never trusted. JPEG, PNG and PDF
  are accepted. HEIC (an iPhone's own format) is refused with its own message: few office
  PCs open it, and an iPhone converts its photos to JPEG itself when the form asks for
  JPEG/PNG (the field's ``accept``), so a citizen rarely meets the refusal.
- **Limits** (``[procedures]`` in tenant.toml): ``attachment_max_files`` files of at most
  ``attachment_max_mb`` MB each; every refusal names the limit. A request larger than the
  app's ``MAX_CONTENT_LENGTH`` never reaches a view: the city's 413 page names that limit.
- **Storage**: in the database (``ProcedureAttachment.data``, deferred), like the city's
  documents (see :mod:`waterportal.billing.documents` for why): the row is city-owned, so
  isolation, row security, backups and the request's deletion cover the file too.
- A browser cannot keep a chosen file across a re-rendered form: the kinds' forms say at
  the file field that files must be chosen again, while every other field keeps what was typed.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from flask_babel import gettext

from waterportal.core.files import EXTENSIONS, HEIC, JPEG, PDF, PNG, TYPE_NAMES, safe_filename, sniff

ACCEPTED = (JPEG, PNG, PDF)
# The file field's ``accept``: the picker offers these, and iOS converts HEIC photos to JPEG.
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"
MB = 1024 * 1024


class FileField(Protocol):
    """What a form's file field gives (werkzeug's ``FileStorage``)."""

    filename: str | None
    mimetype: str
    stream: IO[bytes]


@dataclass(frozen=True)
class Upload:
    """A file as received (the view reads it from the form; the demo and tests build one).
    ``content_type`` is what the browser claimed: kept for the log, never trusted."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AttachmentLimits:
    max_files: int
    max_bytes: int

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> AttachmentLimits:
        """The limits of a city's ``[procedures]`` settings."""
        return cls(max_files=settings["attachment_max_files"], max_bytes=settings["attachment_max_mb"] * MB)

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB

    def hint(self) -> str:
        """The line under the file field."""
        return gettext("JPEG・PNG の写真または PDF を %(files)s 件まで(1 ファイル %(mb)s MB まで)添付できます。",
                       files=self.max_files, mb=self.max_mb)


@dataclass(frozen=True)
class CheckedFile:
    """An accepted file, ready for ``ProcedureAttachment``."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class AttachmentRefused(ValueError):
    """One or more files were refused; ``messages`` (the page's language) go next to the file field."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


def _named(filename: str, content_type: str, number: int) -> str:
    """A stored name: the citizen's own (cleaned), with the extension the content really has."""
    extension = EXTENSIONS[content_type]
    name = safe_filename(filename, f"添付{number}{extension}")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if f".{suffix}" != extension and not (content_type == JPEG and suffix == "jpeg"):
        name = safe_filename(f"{name}{extension}", f"添付{number}{extension}")
    return name


def _refusal(name: str, data: bytes, limits: AttachmentLimits) -> str | None:
    # gettext at the call: a citizen reads the refusal in the page's language.
    if not data:
        return gettext("「%(name)s」は空のファイルです。", name=name)
    if len(data) > limits.max_bytes:
        return gettext("「%(name)s」は大きすぎます(1 ファイル %(mb)s MB までです)。", name=name, mb=limits.max_mb)
    found = sniff(data)
    if found == HEIC:
        return gettext("「%(name)s」は HEIC 形式の写真のため添付できません。"
                       "カメラの設定を「互換性優先」(JPEG)にして撮り直すか、JPEG・PNG に変換してから選択してください。", name=name)
    if found not in ACCEPTED:
        if found:
            return gettext("「%(name)s」(%(type)s 形式)は添付できない種類のファイルです。JPEG・PNG の写真か PDF を選択してください。",
                           name=name, type=TYPE_NAMES[found])
        return gettext("「%(name)s」は添付できない種類のファイルです。JPEG・PNG の写真か PDF を選択してください。", name=name)
    return None


def read_uploads(fields: Iterable[FileField | None], limits: AttachmentLimits) -> list[Upload]:
    """The files a form sent; a field left empty (no file chosen) is no file. Reads at most
    ``max_bytes + 1`` bytes of each, enough to tell that a file is too large without
    holding all of it a second time (the request's own limit is ``MAX_CONTENT_LENGTH``)."""
    return [
        Upload(f.filename or "", f.mimetype or "", f.stream.read(limits.max_bytes + 1))
        for f in fields if f is not None and (f.filename or "").strip()
    ]


def check_uploads(uploads: Sequence[Upload], limits: AttachmentLimits) -> list[CheckedFile]:
    """The uploads, checked: a record with neither a name nor bytes is no file.

    Raises :class:`AttachmentRefused` with every problem found (too many files first; then
    each file: empty, too large, not JPEG/PNG/PDF), each naming the file and the limit.
    """
    chosen = [u for u in uploads if u.data or u.filename.strip()]
    if len(chosen) > limits.max_files:
        raise AttachmentRefused([gettext("添付できるファイルは %(max)s 件までです(%(chosen)s 件選択されています)。",
                                         max=limits.max_files, chosen=len(chosen))])
    accepted: list[CheckedFile] = []
    problems: list[str] = []
    for number, upload in enumerate(chosen, start=1):
        name = safe_filename(upload.filename, gettext("%(number)s 件目のファイル", number=number), limit=60)
        problem = _refusal(name, upload.data, limits)
        if problem:
            problems.append(problem)
            continue
        content_type = sniff(upload.data) or ""
        accepted.append(CheckedFile(_named(upload.filename, content_type, number), content_type, upload.data))
    if problems:
        raise AttachmentRefused(problems)
    return accepted
