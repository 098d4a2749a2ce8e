"""書類: notices the city issued to one customer (通知書), imported with their files.

The file itself is kept in the database (``data``, deferred so lists never load it), not
under ``instance/``: every web worker on every machine can then serve it, the import of
an index and its files is one all-or-nothing transaction, backups and tenant isolation
cover it like any other row, and deleting a contract removes its files. The files are
small (a scanned notice is 50-500 KB; the import refuses anything over
:data:`MAX_DOCUMENT_BYTES`), so this costs little; past millions of files they would move
to object storage with the same row as index.
"""
from __future__ import annotations

from sqlalchemy import select

from waterportal.billing.models import Document
from waterportal.core.files import JPEG, MAGIC, PDF, PNG
from waterportal.extensions import db

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Extension -> (content type, leading bytes the file must start with).
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": (PDF, MAGIC[PDF]),
    ".png": (PNG, MAGIC[PNG]),
    ".jpg": (JPEG, MAGIC[JPEG]),
    ".jpeg": (JPEG, MAGIC[JPEG]),
}


def contract_documents(contract_id: int) -> list[Document]:
    """The documents of a contract of the current city, newest first (files not loaded)."""
    return list(db.session.scalars(
        select(Document).where(Document.contract_id == contract_id)
        .order_by(Document.issued_on.desc(), Document.id.desc())
    ))
