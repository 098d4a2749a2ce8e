"""The bills import's column-at-a-time check of a clean chunk (BillRows._clean_chunk) gives the
same rows as the row-by-row check, declines every chunk that is not plainly clean (which the
row-by-row check then explains line by line), and CsvFile.chunks numbers physical lines as
CsvFile.rows does (blank lines, quoted line breaks, a CSV error half-way through a chunk)."""
from __future__ import annotations

import pytest

from tests.imports.helpers import bill_row, csv_text
from waterportal.imports import reading
from waterportal.imports.bill_validation import BillRows
from waterportal.imports.reading import CsvFile
from waterportal.imports.validation import BILL_COLUMNS, BILL_OPTIONAL, map_header

NUMBERS = [f"{n:011d}" for n in range(1, 41)]  # Nayoro: 11 digits
SLOTS = {number: slot for slot, number in enumerate(NUMBERS)}
IDS = [1000 + slot for slot in range(len(NUMBERS))]
HEADER = [*BILL_COLUMNS, "meter_exchanged"]  # the invoice columns take the row path (test_invoice_import.py)


def records(rows: list[dict], header=HEADER) -> list[list[str]]:
    return [[row.get(name, "") for name in header] for row in rows]


def clean_rows() -> list[dict]:
    """Two months of every contract, one of them paid, one meter exchanged (usage not the difference)."""
    rows = [bill_row(number, month) for month in ("2026-08", "2026-09") for number in NUMBERS]
    rows[3].update(paid_on="2026-09-25")
    rows[5].update(meter_exchanged="1", previous_reading="900", current_reading="12", usage_m3="20")
    rows[6].update(meter_exchanged="0")
    return rows


def checked(chunks: list[list[list[str]]], columns: bool, header=HEADER) -> tuple[list, list, list[bool]]:
    """Clean rows, problems and, per chunk, whether the column check took it."""
    checker = BillRows(map_header(header, BILL_COLUMNS, BILL_OPTIONAL, 1, []), 11, SLOTS, IDS)
    took = []
    column_check = checker._clean_chunk

    def spy(chunk):
        result = column_check(chunk) if columns else None
        took.append(result is not None)
        return result

    checker._clean_chunk = spy
    clean, problems, line = [], [], 2
    for chunk in chunks:
        clean += checker.check(range(line, line + len(chunk)), chunk, problems)
        line += len(chunk)
    return clean, problems, took


def test_a_clean_chunk_is_checked_by_column_with_the_same_rows():
    chunk = records(clean_rows())

    by_column = checked([chunk], columns=True)
    by_row = checked([chunk], columns=False)

    assert by_column[2] == [True]
    assert by_column[:2] == by_row[:2]
    assert by_column[1] == [] and len(by_column[0]) == 80
    assert by_column[0][5] == (IDS[5], "2026-08", "2026-08-01", "2026-08-31", "2026-08-31", 900, 12, 20, 1, 3000, 2000,
                               454, 5000, "2026-09-30", None, *(None,) * 10)
    assert by_column[0][3][14] == "2026-09-25"


def test_without_the_optional_column_too():
    header = list(BILL_COLUMNS)
    chunk = records([bill_row(number) for number in NUMBERS], header)
    assert checked([chunk], True, header) == (*checked([chunk], False, header)[:2], [True])


@pytest.mark.parametrize("change", [
    # valid, but not written as stored: the row-by-row check normalises them
    {"total": "５０００"}, {"water_charge": "03000"}, {"usage_m3": " 20"}, {"period_start": "２０２６-08-01"},
    {"billing_month": "2026-9"}, {"customer_number": " 00000000003"}, {"previous_reading": "0000000000100"},
    # not valid
    {"total": "-5000"}, {"total": "5001"}, {"tax": "6000"}, {"usage_m3": "21"}, {"period_end": "2026-07-31"},
    {"water_charge": ""}, {"current_reading": "2147483648"}, {"current_reading": "1e3"}, {"due_date": "2026-02-30"},
    {"paid_on": "x"}, {"meter_exchanged": "2"}, {"customer_number": "99999999999"}, {"customer_number": "0000000001"},
    {"billing_month": "2026-09"},  # the same contract and month as another row of the chunk
])
def test_a_chunk_not_plainly_clean_is_checked_row_by_row(change):
    rows = clean_rows()
    rows[7].update(change)
    chunk = records(rows)

    by_column = checked([chunk], columns=True)
    by_row = checked([chunk], columns=False)

    assert by_column[2] == [False]
    assert by_column[:2] == by_row[:2]


def test_a_repeat_in_a_later_chunk_is_found_as_before():
    first, again = records(clean_rows()[:40]), records(clean_rows()[:40])
    second = records(clean_rows()[40:])

    by_column = checked([first, second, again], columns=True)
    by_row = checked([first, second, again], columns=False)

    assert by_column[2] == [True, True, False]
    assert by_column[:2] == by_row[:2] and len(by_column[0]) == 80


def test_a_wrong_width_row_is_checked_row_by_row():
    chunk = records(clean_rows())
    chunk[4] = chunk[4][:-2]
    by_column = checked([chunk], columns=True)
    assert by_column[2] == [False]
    assert by_column[:2] == checked([chunk], columns=False)[:2]
    assert [(p.line, p.column) for p in by_column[1]] == [(6, "-")]


def file_text(breaks: str) -> bytes:
    """A bills file with blank lines, quoted line breaks (``breaks``) and a one-field line."""
    lines = csv_text(BILL_COLUMNS, [bill_row(number) for number in NUMBERS[:6]]).split("\r\n")
    lines[2] = lines[2].replace("2026-09-30", f'"2026-09-30{breaks}x"')
    lines[4] = lines[4].replace("2026-08-01", f'"{breaks}{breaks}"')
    return "\r\n".join([*lines[:3], "", "   ", *lines[3:5], "lonely", *lines[5:]]).encode()


def flat(chunks) -> list[tuple[int, list[str]]]:
    return [(line, record) for lines, chunk in chunks for line, record in zip(lines, chunk, strict=True)]


@pytest.mark.parametrize("text_block", [16, 200, 1 << 16])
@pytest.mark.parametrize("breaks", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_chunks_number_physical_lines_as_rows_does(breaks, size, text_block, monkeypatch):
    """Lines 1-2 plain text (split by str.split), then quoted line breaks (the csv module from
    the block that holds the first quote: the first block, or a later one when blocks are small)."""
    monkeypatch.setattr(reading, "TEXT_BLOCK", text_block)
    data = file_text(breaks)
    with CsvFile(data) as one_by_one:
        expected = list(one_by_one.rows([]))
        expected_count = one_by_one.count
    with CsvFile(data) as chunked:
        got = flat(chunked.chunks(size, []))
        assert chunked.count == expected_count == 7
    assert got == expected
    assert [line for line, _ in got] == [2, 3, 7, 8, 11, 12, 13]


@pytest.mark.parametrize("size", [1, 3, 100])
def test_a_csv_error_ends_the_rows_after_those_before_it(size):
    good = csv_text(BILL_COLUMNS, [bill_row(number) for number in NUMBERS[:4]])
    data = (good + '00000000009,"2026-09" x,a\r\n' + "00000000010,2026-09\r\n").encode()
    expected_problems, problems = [], []
    with CsvFile(data) as one_by_one:
        expected = list(one_by_one.rows(expected_problems))
    with CsvFile(data) as chunked:
        got = flat(chunked.chunks(size, problems))
    assert got == expected and len(got) == 4
    assert problems == expected_problems and [p.line for p in problems] == [6]


PLAIN = [bill_row(number) for number in NUMBERS[:30]]


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "mixed"])
@pytest.mark.parametrize("text_block", [16, 100, 1 << 16])
@pytest.mark.parametrize("last_newline", [True, False])
def test_plain_text_reads_as_the_csv_module_reads_it(ending, text_block, last_newline, monkeypatch):
    monkeypatch.setattr(reading, "TEXT_BLOCK", text_block)
    lines = csv_text(BILL_COLUMNS, PLAIN).split("\r\n")[:-1]
    lines[10:12] = ["", "  "]  # blank lines
    if ending == "mixed":  # CR LF, then one LF alone: the csv module reads the rest
        text = "\r\n".join(lines[:20]) + "\n" + "\r\n".join(lines[20:])
    else:
        text = ending.join(lines)
    data = (text + ("\r\n" if ending == "mixed" else ending) * last_newline).encode()
    with CsvFile(data) as one_by_one:
        expected = list(one_by_one.rows([]))
    with CsvFile(data) as chunked:
        got = flat(chunked.chunks(7, []))
        assert chunked.count == len(expected) == 28
    assert got == expected


def test_an_over_long_field_without_quotes_is_the_csv_modules_error():
    data = csv_text(BILL_COLUMNS, [*PLAIN[:3], bill_row(NUMBERS[3], period_start="x" * 200_000)]).encode()
    problems: list = []
    with CsvFile(data) as chunked:
        assert [line for line, _ in flat(chunked.chunks(100, problems))] == [2, 3, 4]
    assert [(p.line, p.message) for p in problems] == [(5, "CSV として読めません (1つの項目が長すぎます (131,072文字まで))")]
