"""Fixtures of the import tests: CSV files written the way billing systems write them."""
from __future__ import annotations

import pytest

from tests.imports.helpers import csv_text
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS


@pytest.fixture
def write_csv(tmp_path):
    """``write_csv(header, rows, encoding="utf-8", name=...)`` -> path of the file."""
    counter = iter(range(1, 1000))

    def write(header, rows, encoding: str = "utf-8", name: str | None = None):
        path = tmp_path / (name or f"export-{next(counter)}.csv")
        path.write_bytes(csv_text(header, rows).encode(encoding))
        return path

    return write


@pytest.fixture
def contracts_csv(write_csv):
    return lambda rows, **kw: write_csv(list(CONTRACT_COLUMNS), rows, **kw)


@pytest.fixture
def bills_csv(write_csv):
    return lambda rows, header=BILL_COLUMNS, **kw: write_csv(list(header), rows, **kw)
