"""Import the documents a city issued to its customers (⑥ 書類ダウンロード).

The city hands over a folder: an index ``documents.csv`` (UTF-8 or Shift_JIS, columns
``customer_number,title,issued_on,file``) and the files it names (PDF, PNG or JPEG, paths
relative to the folder). Like the other imports: every row is checked and every problem
reported with its line number; one problem rejects the whole folder (nothing written);
running it again changes nothing. A row is identified by (customer, title, issued_on): the
same key with a file of another SHA-256 replaces the stored file (counted as updated).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from waterportal.billing.documents import DOCUMENT_TYPES, MAX_DOCUMENT_BYTES
from waterportal.billing.models import Document
from waterportal.core.text import squash_spaces
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.imports import writers
from waterportal.imports.reading import Problem, shown
from waterportal.imports.services import ImportResult, ProgressCallback, _Run, _stepper
from waterportal.imports.validation import NOT_DATE, REQUIRED, _customer_number, _date, _number_problem, _width_ok
from waterportal.tenancy.context import TenantContext, tenant_context

INDEX_NAME = "documents.csv"
DOCUMENT_COLUMNS = ("customer_number", "title", "issued_on", "file")
TITLE_MAX = 200


@dataclass(frozen=True)
class DocumentRow:
    """A valid index row with its file's facts (the bytes are read again when written)."""

    line: int
    contract_id: int
    title: str
    issued_on: str
    path: Path
    filename: str
    content_type: str
    size: int
    sha256: str


def _check_file(root: Path, raw: str, line: int, problems: list[Problem]) -> tuple[Path, str, int, str] | None:
    """Resolve ``raw`` inside ``root`` and check it; (path, content type, size, sha256) or None."""
    def bad(message: str) -> None:
        problems.append(Problem(line, "file", message))

    name = raw.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not name:
        bad(REQUIRED)
        return None
    if name.startswith("/") or ".." in parts or ":" in name:
        bad(f"ファイルはフォルダ内の相対パスで指定してください: {shown(raw)}")
        return None
    try:
        path = root.joinpath(*parts).resolve()
        found = path.is_relative_to(root) and path.is_file()
    except OSError:  # a name too long for the file system, say
        found = False
    if not found:
        bad(f"ファイルがありません: {shown(raw)}")
        return None
    kind = DOCUMENT_TYPES.get(path.suffix.lower())
    if kind is None:
        bad(f"PDF・PNG・JPEG 以外のファイルは登録できません: {shown(raw)}")
        return None
    try:
        size = path.stat().st_size
        data = path.read_bytes() if 0 < size <= MAX_DOCUMENT_BYTES else b""
    except OSError:
        bad(f"ファイルを読み込めません: {shown(raw)}")
        return None
    if not data:
        bad(f"ファイルの大きさは 1 バイト以上 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB 以下にしてください: {shown(raw)}")
        return None
    if not data.startswith(kind[1]):
        bad(f"ファイルの中身が拡張子 ({path.suffix}) と一致しません: {shown(raw)}")
        return None
    return path, kind[0], size, hashlib.sha256(data).hexdigest()


def validate_documents(rows, index, root: Path, digits: int, contract_ids: dict[str, int],
                       problems: list[Problem], progress=None) -> list[DocumentRow]:
    """Check every index row and its file; return the valid rows (problems appended)."""
    clean: list[DocumentRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, record in rows:
        if progress:
            progress(1)
        if not _width_ok(record, len(index), line, problems):
            continue
        raw_number, raw_title, raw_issued, raw_file = (record[index[c]].strip() for c in DOCUMENT_COLUMNS)
        before = len(problems)
        number = _customer_number(raw_number, digits) if raw_number else None
        contract_id = contract_ids.get(number) if number else None
        if not raw_number:
            problems.append(Problem(line, "customer_number", REQUIRED))
        elif number is None:
            problems.append(Problem(line, "customer_number", _number_problem(raw_number, digits)))
        elif contract_id is None:
            problems.append(Problem(line, "customer_number", f"お客様番号 {number} の契約が登録されていません"))
        title = squash_spaces(raw_title)
        if not title:
            problems.append(Problem(line, "title", REQUIRED))
        elif len(title) > TITLE_MAX:
            problems.append(Problem(line, "title", f"{TITLE_MAX}文字以内で入力してください"))
        issued = _date(raw_issued) if raw_issued else None
        if not raw_issued:
            problems.append(Problem(line, "issued_on", REQUIRED))
        elif issued is None:
            problems.append(Problem(line, "issued_on", f"{NOT_DATE}: {shown(raw_issued)}"))
        checked = _check_file(root, raw_file, line, problems)
        if number and title and issued:
            first = seen.setdefault((number, title, issued), line)
            if first != line:
                problems.append(Problem(line, "title", f"お客様番号 {number} の「{title}」({issued}) が {first} 行目と重複しています"))
        if len(problems) == before and checked is not None and contract_id is not None and issued is not None:
            path, content_type, size, digest = checked
            clean.append(DocumentRow(line, contract_id, title, issued, path, path.name, content_type, size, digest))
    return clean


def import_documents(tenant: TenantContext, directory: str | Path, *, filename: str | None = None,
                     actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import ``directory/documents.csv`` and its files for ``tenant``; the caller commits."""
    root = Path(directory).resolve()
    index_path = root / INDEX_NAME
    with tenant_context(tenant):
        if not index_path.is_file():
            with _Run("documents", tenant, b"", filename or INDEX_NAME, actor) as run:
                run.problems = [Problem(0, "-", f"索引ファイル {INDEX_NAME} がありません ({root})")]
                return run.finish({})
        with _Run("documents", tenant, index_path, f"{filename or root.name}/{INDEX_NAME}", actor) as run:
            index = run.header(DOCUMENT_COLUMNS)
            if index is None:
                return run.finish({})
            db.session.flush()
            contract_ids = writers.load_contract_ids(db.session.connection(), tenant.id)
            digits = int(tenant.settings["registration"]["customer_number_digits"])
            clean = validate_documents(run.file.rows(run.problems), index, root, digits, contract_ids, run.problems,
                                       _stepper(progress, "validate", run.file.estimate))
            run.lap("validate")
            if run.problems:
                return run.finish({})
            counts, written = _write(clean, _stepper(progress, "write", len(clean)))
            run.lap("write")
            result = run.finish(counts)
            for document in written:
                document.batch_id = result.batch_id
            db.session.flush()
            return result


def _write(rows: list[DocumentRow], progress) -> tuple[dict[str, int], list[Document]]:
    """Insert new documents, replace changed files, leave identical ones alone."""
    existing = {
        (d.contract_id, d.title, d.issued_on.isoformat()): d
        for d in db.session.scalars(select(Document).where(Document.contract_id.in_(sorted({r.contract_id for r in rows}))))
    } if rows else {}
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    written: list[Document] = []
    now = utcnow_naive()
    for row in rows:
        if progress:
            progress(1)
        document = existing.get((row.contract_id, row.title, row.issued_on))
        if document is not None and document.sha256 == row.sha256:
            counts["unchanged"] += 1
            continue
        if document is None:
            document = Document(contract_id=row.contract_id, title=row.title,
                                issued_on=dt.date.fromisoformat(row.issued_on), created_at=now)
            db.session.add(document)
            counts["inserted"] += 1
        else:
            counts["updated"] += 1
        data = row.path.read_bytes()  # read again: validation kept only the facts, not every file
        document.filename, document.content_type, document.updated_at = row.filename, row.content_type, now
        document.size, document.sha256, document.data = len(data), hashlib.sha256(data).hexdigest(), data
        written.append(document)
    db.session.flush()
    return counts, written
