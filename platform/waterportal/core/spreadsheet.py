"""CSV for spreadsheets: cells that a spreadsheet would run as a formula are neutralised.

A staff export (the audit log today) holds text anyone could type: an email tried at the
console login, a member's nickname, a notice title. Excel and LibreOffice run a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (and tab or CR, which they strip first) as a
formula, so ``=HYPERLINK(...)`` typed by an attacker would run on a city employee's PC
(OWASP "CSV injection"). Such a cell is written with a leading apostrophe, which the
spreadsheet shows as text and hides.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell's text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def excel_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]], encoding: str = "utf-8") -> bytes:
    """CSV with CRLF line ends, every cell neutralised: UTF-8 with a BOM (Excel then shows
    Japanese correctly), or ``encoding="cp932"`` (Shift_JIS as Windows writes it, no BOM: what
    older spreadsheets and billing tools read; a character it lacks becomes "?")."""
    buffer = io.StringIO()
    if encoding == "utf-8":
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode(encoding, errors="replace")
