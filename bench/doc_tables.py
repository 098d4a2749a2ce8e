"""The dated result tables the benchmarks write into docs/performance.md.

Each benchmark owns a section between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``,
one block per backend inside it (``<!-- KEY -->`` ... ``<!-- /KEY -->``), replaced on the
next run of that backend and left alone by the others.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

HEADER = ["| figure | measured | baseline (same run) | ratio | target | met |", "|---|---|---|---|---|---|"]


def table(script: str, what: str, rows: list[tuple]) -> str:
    """A dated table: ``rows`` of (figure, measured, baseline, ratio, target, met)."""
    lines = [f"Run {dt.date.today().isoformat()}: `{' '.join([script, *sys.argv[1:]])}` ({what})", "", *HEADER]
    for figure, measured, baseline, ratio, target, met in rows:
        ratio = f"{ratio:.2f}" if isinstance(ratio, float) else ratio
        lines.append(f"| {figure} | {measured} | {baseline} | {ratio} | {target} | {'yes' if met else 'no'} |")
    return "\n".join(lines)


def write_block(path: Path, name: str, title: str, key: str, body: str) -> None:
    """Put ``body`` as block ``key`` in section ``name`` of ``path`` (the section ``## title``
    is added at the end the first time)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    block = f"<!-- {key} -->\n{body}\n<!-- /{key} -->"
    if start not in text:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    inner, tail = rest.split(end, 1)
    pattern = re.compile(rf"<!-- {re.escape(key)} -->.*?<!-- /{re.escape(key)} -->", re.S)
    inner = pattern.sub(lambda _: block, inner) if pattern.search(inner) else inner.rstrip("\n") + f"\n{block}\n"
    path.write_text(f"{head}{start}\n{inner.strip()}\n{end}{tail}", encoding="utf-8")


def publish(doc: str, name: str, title: str, key: str, body: str) -> None:
    """Print ``body`` and, unless ``doc`` is empty (a smoke run), put it as block ``key`` of
    section ``name`` in the file ``doc`` (:func:`write_block`)."""
    print(body)
    if doc:
        write_block(Path(doc), name, title, key, body)
        print(f"written to {doc}")
