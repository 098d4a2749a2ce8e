"""docs/security.md's checklist cannot rot: every test it names exists (found by AST, so a
renamed or removed test fails here), every item either passes with a named test or says
which part of the work owns it, and the table keeps all of its items."""
from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
NODE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*([^|]*?)\s*\|\s*$")


def checklist_rows(doc: Path = DOC) -> list[tuple[int, str, str]]:
    """(number, the row's text, result) for every numbered row of the checklist table."""
    text = doc.read_text(encoding="utf-8")
    section = text.split("## The checklist", 1)[1].split("\n## ", 1)[0]
    return [(int(m.group(1)), m.group(2), m.group(3)) for m in map(ROW.match, section.splitlines()) if m]


@cache
def defined_tests(path: str) -> frozenset[str]:
    """Names of the test functions defined in ``path`` (module level or in a class)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def test_the_checklist_has_every_item_in_order():
    numbers = [number for number, _, _ in checklist_rows()]
    assert len(numbers) >= 37
    assert numbers == list(range(1, len(numbers) + 1))


def missing_tests(doc: Path = DOC) -> list[str]:
    """The rows' named tests that do not exist."""
    missing = []
    for number, row, _ in checklist_rows(doc):
        for path, name in NODE.findall(row):
            if not (ROOT / path).is_file() or name not in defined_tests(path):
                missing.append(f"row {number}: {path}::{name}")
    return missing


def test_every_named_test_exists():
    assert missing_tests() == []


def test_every_item_passes_with_a_test_or_names_its_owner():
    unproved = []
    for number, row, result in checklist_rows():
        if result == "pass":
            if not NODE.search(row):
                unproved.append(f"row {number} passes with no test named")
        elif not re.fullmatch(r"pending: owned by #\d+", result):
            unproved.append(f"row {number}: result {result!r}")
    assert unproved == [], unproved


def test_the_check_notices_a_missing_test(tmp_path):
    """The parser really reads the table: a row naming a test that does not exist is caught."""
    broken = tmp_path / "security.md"
    text = DOC.read_text(encoding="utf-8")
    broken.write_text(text.replace("::test_argon2id_parameters_match_docs`", "::test_no_such_test`", 1), encoding="utf-8")
    [missing] = missing_tests(broken)
    assert missing.endswith("tests/accounts/test_passwords.py::test_no_such_test")
