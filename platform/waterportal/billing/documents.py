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

import datetime as dt
from pathlib import PurePosixPath

from sqlalchemy import LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, deferred, mapped_column

from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Extension -> (content type, leading bytes the file must start with).
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


class Document(TenantScoped, db.Model):
    """One document of one contract; natural key (contract, title, issued_on)."""

    __tablename__ = "documents"
    __table_args__ = (
        # The import's natural key; it leads with (tenant_id, contract_id), so it also serves
        # "this contract's documents".
        UniqueConstraint("tenant_id", "contract_id", "title", "issued_on"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date]
    # The name in the city's export, used for the download's file name.
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    batch_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    @property
    def download_name(self) -> str:
        """The name the citizen's browser saves: 「水道料金改定のお知らせ_20240801.pdf」."""
        title = "".join("_" if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in self.title)
        return f"{title}_{self.issued_on:%Y%m%d}{PurePosixPath(self.filename).suffix.lower()}"



def contract_documents(contract_id: int) -> list[Document]:
    """The documents of a contract of the current city, newest first (files not loaded)."""
    return list(db.session.scalars(
        select(Document).where(Document.contract_id == contract_id)
        .order_by(Document.issued_on.desc(), Document.id.desc())
    ))
