"""Reading an export file: bytes, checksum, encoding detection, header and CSV rows.

Billing systems hand over UTF-8 (with or without BOM) or Shift_JIS (really CP932, the
Windows superset with ①, ㈱, NEC special characters). UTF-8 is tried strictly first: a
CP932 file almost never decodes as valid UTF-8, while the reverse is often "valid" garbage.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

Source = str | os.PathLike | IO[bytes] | bytes

BOM = b"\xef\xbb\xbf"
# Longest value quoted back in a message: a clerk needs to recognise it, not to read 100 KB.
SHOWN = 40
# Python's csv errors, said in Japanese for the clerk (anything else gets the generic text).
CSV_ERRORS = {
    "field larger than field limit": f"1つの項目が長すぎます ({csv.field_size_limit():,}文字まで)",
    "unexpected end of data": "引用符 (\") が閉じられていません",
    "expected after": "引用符 (\") で囲んだ項目の後ろに文字があります",
}


class Problem(NamedTuple):
    """One error: physical ``line`` in the file (header = 1), ``column`` name (``-``: whole line), reason."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


@dataclass
class CsvFile:
    """A decoded export: its header (1st line) and data rows with their physical line numbers."""

    sha256: str
    encoding: str
    header: list[str] = field(default_factory=list)
    header_line: int = 1
    # (line number where the row starts, fields); blank lines are left out.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def read_source(source: Source) -> bytes:
    """Return the bytes of a path, a binary stream or bytes (a text stream is re-encoded)."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def shown(value: str) -> str:
    """``value`` quoted in a message, cut to :data:`SHOWN` characters."""
    return f"'{value}'" if len(value) <= SHOWN else f"'{value[:SHOWN]}…' ({len(value):,}文字)"


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    reason = next((ja for en, ja in CSV_ERRORS.items() if en in text), "")
    return f"CSV として読めません ({reason})" if reason else "CSV として読めません"


def source_name(source: Source) -> str:
    """A file name to record when the caller passes none."""
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "filename", None) or getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else ""


def decode(data: bytes) -> tuple[str, str] | None:
    """Decode ``data``: ``("utf-8-sig" | "utf-8" | "cp932", text)``, or ``None`` if neither fits."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return ("utf-8-sig" if data.startswith(BOM) else "utf-8"), text
    try:
        return "cp932", data.decode("cp932")
    except UnicodeDecodeError:
        return None


def read_csv(data: bytes) -> CsvFile:
    """Decode ``data`` and split it into header and rows; file-level problems go to ``errors``."""
    result = CsvFile(sha256=hashlib.sha256(data).hexdigest(), encoding="")
    decoded = decode(data)
    if decoded is None:
        result.errors.append(Problem(1, "-", "文字コードを判別できません (UTF-8 または Shift_JIS で保存してください)"))
        return result
    result.encoding, text = decoded
    if "\x00" in text:
        # No export has NUL characters; UTF-16 text decodes as "valid" UTF-8 full of them.
        line = text.count("\n", 0, text.index("\x00")) + 1
        result.errors.append(Problem(line, "-", "NUL 文字が含まれています (UTF-8 または Shift_JIS の CSV で保存してください)"))
        return result
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # physical line where the next record starts (a quoted field may span lines)
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line (often a trailing one)
            if not result.header:
                result.header = [value.strip() for value in record]
                result.header_line = line
                continue
            result.rows.append((line, record))
    except csv.Error as exc:
        # An unterminated quote or a stray character after a quote: csv cannot resync.
        result.errors.append(Problem(reader.line_num or 1, "-", _csv_reason(exc)))
    if not result.header and not result.errors:
        result.errors.append(Problem(1, "-", "ファイルが空です (見出し行がありません)"))
    return result
