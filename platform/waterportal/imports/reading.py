"""Reading an export file as a stream: checksum, encoding detection, header and CSV rows.

Billing systems hand over UTF-8 (with or without BOM) or Shift_JIS (really CP932, the
Windows superset with ①, ㈱, NEC special characters). UTF-8 is tried strictly first: a
CP932 file almost never decodes as valid UTF-8, while the reverse is often "valid" garbage.

Nothing holds the whole file: a first pass reads it in 1 MB blocks (SHA-256, the encoding
through an incremental decoder, NUL bytes, the line count for the progress bar), then
:meth:`CsvFile.rows` decodes it again incrementally (``io.TextIOWrapper``: a multibyte
character cut by a block boundary is completed from the next block) and yields one CSV
record at a time; :meth:`CsvFile.chunks`, the importers' way, yields them a chunk at a time
and splits plain text (no quotes) with ``str.split`` instead of the csv module.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

Source = str | os.PathLike | IO[bytes] | bytes

BOM = b"\xef\xbb\xbf"
BLOCK = 1 << 20  # bytes read at a time
TEXT_BLOCK = 1 << 16  # characters decoded at a time by CsvFile.chunks (about 1,000 bill lines)
# An upload that cannot seek is copied once (in memory up to this size, then to a temp file).
SPOOL_BYTES = 8 << 20
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




def _binary(source: Source) -> IO[bytes]:
    """A seekable binary stream of ``source`` (the caller closes it; a caller's stream is kept open)."""
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb")  # noqa: SIM115 - closed by CsvFile.close
    first = source.read(0)
    if isinstance(first, str):  # a text stream: re-encoded (tests, never an upload)
        return io.BytesIO(source.read().encode("utf-8"))  # type: ignore[attr-defined]
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by CsvFile.close
    while block := source.read(BLOCK):
        spool.write(block)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _fits(blocks: Iterator[bytes], encoding: str) -> bool:
    """Whether the bytes decode strictly as ``encoding`` (incrementally, block by block)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for block in blocks:
            decoder.decode(block)
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def _record_lines(records: list[list[str]], start: int) -> tuple[list[int], int]:
    """The physical line where each record starts, from ``start``, when some record spans
    several lines (a quoted field with line breaks: CR LF, LF or CR, as the reader counts
    them); and the line after the last record."""
    lines = []
    line = start
    for record in records:
        lines.append(line)
        line += 1 + sum(field.count("\n") + field.count("\r") - field.count("\r\n") for field in record)
    return lines, line


class CsvFile:
    """A decoded export, read as a stream: header (1st line) and data rows with their physical lines.

    Opening it surveys the bytes (checksum, encoding, NUL, lines); file-level problems go to
    ``errors`` and then :meth:`rows` yields nothing. Close it (or use ``with``) when done.
    """

    def __init__(self, source: Source):
        self.errors: list[Problem] = []
        self.header: list[str] = []
        self.header_line = 1
        self.count = 0  # data rows yielded so far
        self.encoding = ""
        self._stream = _binary(source)
        self._start = self._stream.tell()
        self._text: io.TextIOWrapper | None = None
        self._records: Iterator[list[str]] | None = None
        self._reader: Any = None
        self._next_line = 1
        self._line_base: int | None = None  # chunks(): the csv reader's line 1 is this + 1
        self._survey()
        if not self.errors:
            self._open_rows()

    def _blocks(self) -> Iterator[bytes]:
        self._stream.seek(self._start)
        while block := self._stream.read(BLOCK):
            yield block

    def _survey(self) -> None:
        digest = hashlib.sha256()
        utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        is_utf8, newlines, nul_line, head, last = True, 0, 0, b"", b""
        for block in self._blocks():
            digest.update(block)
            if not nul_line and b"\x00" in block:
                nul_line = newlines + block.count(b"\n", 0, block.index(b"\x00")) + 1
            newlines += block.count(b"\n")
            if is_utf8:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    is_utf8 = False
            head, last = head or block[:3], block[-1:]
        if is_utf8:
            try:
                utf8.decode(b"", True)
            except UnicodeDecodeError:
                is_utf8 = False
        self.sha256 = digest.hexdigest()
        # Data lines for the progress bar (blank lines and quoted line breaks make it a guess).
        self.estimate = max(0, newlines + (last not in (b"", b"\n")) - 1)
        if is_utf8:
            self.encoding = "utf-8-sig" if head == BOM else "utf-8"
        elif _fits(self._blocks(), "cp932"):
            self.encoding = "cp932"
        else:
            self.errors.append(Problem(1, "-", "文字コードを判別できません (UTF-8 または Shift_JIS で保存してください)"))
            return
        if nul_line:
            # No export has NUL characters; UTF-16 text decodes as "valid" UTF-8 full of them.
            self.errors.append(Problem(nul_line, "-", "NUL 文字が含まれています (UTF-8 または Shift_JIS の CSV で保存してください)"))

    def _open_rows(self) -> None:
        self._line_base = None
        self._stream.seek(self._start)
        self._text = io.TextIOWrapper(self._stream, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text, strict=True)
        for line, record in self._records_with_lines(self.errors):
            self.header = [value.strip() for value in record]
            self.header_line = line
            break
        if not self.header and not self.errors:
            self.errors.append(Problem(1, "-", "ファイルが空です (見出し行がありません)"))

    def _records_with_lines(self, problems: list[Problem], count: bool = False) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader
        if reader is None:
            return
        start = self._next_line  # physical line where the next record starts (a quoted field may span lines)
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # blank line (often a trailing one)
                if count:
                    self.count += 1
                self._next_line = start
                yield line, record
        except csv.Error as exc:
            # An unterminated quote or a stray character after a quote: csv cannot resync.
            problems.append(Problem(reader.line_num or 1, "-", _csv_reason(exc)))
            self._reader = None

    def chunks(self, size: int, problems: list[Problem]) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """The data rows after the header, about ``size`` records at a time, as (physical lines, records).

        The same records and lines as :meth:`rows`, with less Python a record: text without
        quotes is split in C (:meth:`_plain_pieces`), the rest is taken from the csv reader a
        chunk at a time (:meth:`_quoted_pieces`). Blank lines are dropped; a CSV error is added to
        ``problems`` and ends the rows (those read before it are still yielded).
        """
        if self.errors or not self.header or self._reader is None:
            return
        lines: list[int] = []
        records: list[list[str]] = []
        for piece_lines, piece_records in itertools.chain(self._plain_pieces(), self._quoted_pieces(size, problems)):
            lines += piece_lines
            records += piece_records
            while len(records) >= size:
                yield from self._data(lines[:size], records[:size])
                del lines[:size], records[:size]
        if records:
            yield from self._data(lines, records)

    def _data(self, lines: list[int], records: list[list[str]]) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """The records that are not blank lines, counted; nothing when all are."""
        if min(map(len, records)) < 2:  # blank lines among them (a one-column record is no data row)
            kept = [(line, record) for line, record in zip(lines, records, strict=True)
                    if record and (len(record) > 1 or record[0].strip())]
            lines, records = [line for line, _ in kept], [record for _, record in kept]
        self.count += len(records)
        if records:
            yield lines, records

    def _plain_pieces(self) -> Iterator[tuple[range, list[list[str]]]]:
        """Records of the text read in blocks of :data:`TEXT_BLOCK` characters and cut after
        their last line break, while a block holds no quote and no CR but in CR LF: then a
        line is a record and its fields are what lies between commas, exactly as the csv
        module reads it, but split by ``str.split`` in C. The first block that is not that
        plain (or holds a line longer than the csv field limit, whose error the csv module
        names) is handed with the rest of the file to :meth:`_quoted_pieces`."""
        text = self._text
        assert text is not None
        carry = ""
        limit = csv.field_size_limit()
        while True:
            block = text.read(TEXT_BLOCK)
            piece = carry + block
            cut = piece.rfind("\n") + 1 if block else len(piece)
            head, carry = piece[:cut], piece[cut:]
            if '"' in head or len(carry) > TEXT_BLOCK:  # a quote; a very long line, or CR alone ends lines
                break
            # Lines end in LF, or all in CR LF (counted, not replaced: a copy of the block)
            crlf = "\r" in head
            end = "\r\n" if crlf else "\n"
            body = head[:-len(end)] if head.endswith(end) else head
            found = body.split(end) if body else []
            if crlf and not (head.count("\r") == head.count("\n") == len(found) - (body is head)):
                break
            if found and max(map(len, found)) > limit:
                break
            records = [line.split(",") for line in found]
            start = self._next_line
            self._next_line += len(records)
            yield range(start, start + len(records)), records
            if not block:
                return
        # From the first line of this block on, the csv module reads (numbering its lines after
        # ours): the text not split yet, completed to the end of its line (the reader takes each
        # string it is given as ending a line), then the rest of the file.
        rest = io.StringIO(head + carry + text.readline(), newline="")
        self._reader = csv.reader(itertools.chain(rest, text), strict=True)
        self._line_base = self._next_line - 1

    def _quoted_pieces(self, size: int, problems: list[Problem]) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        """Records from the csv reader, ``size`` at a time taken in C (``list.extend``); their
        lines a ``range`` when each took one line (checked against the reader's line count),
        else counted from the line breaks inside their quoted fields."""
        reader = self._reader if self._line_base is not None else None
        base = self._line_base or 0
        while reader is not None:
            start = self._next_line
            records: list[list[str]] = []
            try:
                records.extend(itertools.islice(reader, size))
            except csv.Error as exc:  # the records before it are kept by extend
                problems.append(Problem((base + reader.line_num) or 1, "-", _csv_reason(exc)))
                self._reader = reader = None
            if not records:
                return
            if reader is not None and base + reader.line_num - start + 1 == len(records):
                lines: Sequence[int] = range(start, start + len(records))
                self._next_line = base + reader.line_num + 1
            else:
                lines, self._next_line = _record_lines(records, start)
            yield lines, records

    def rows(self, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
        """The data rows after the header, one at a time; a CSV error is added to ``problems``."""
        if self.errors or not self.header:
            return iter(())
        return self._records_with_lines(problems, count=True)

    def reread(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows once more from the start (a second pass; ``count`` is left as it was)."""
        if self._text is not None:
            self._text.detach()
        self._next_line, count = 1, self.count
        self.header = []
        self._open_rows()
        if self.header:
            yield from self._records_with_lines([])
        self.count = count

    def close(self) -> None:
        if self._text is not None:
            self._text.detach()  # leaves the binary stream to be closed below (or to its owner)
            self._text = None
        self._stream.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
