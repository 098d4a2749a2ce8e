"""The axe walk's screenshots (issue 13): with ``SCREENSHOTS_DIR`` set (CI sets
``artifacts/screenshots``, kept as the build's artefacts, never committed) every page the walk
scans is also saved whole, as ``<dir>/<city>/<language>/<width>/<page>.png``, and
``<dir>/index.html`` lists them all, a row per page and a column per language and width, for
a reviewer to browse. An ordinary run takes no screenshot."""
from __future__ import annotations

import fcntl
import html
import json
import os
from pathlib import Path

ENV = "SCREENSHOTS_DIR"


class Shots:
    """One city's screenshots; ``take`` does nothing when the variable is not set."""

    def __init__(self, slug: str, root: str | None = None):
        root = os.environ.get(ENV) if root is None else root
        self.root = Path(root) if root else None
        self.slug = slug
        self.taken: list[dict] = []

    def take(self, page, language: str, width: int, name: str) -> None:
        if self.root is None:
            return
        relative = f"{self.slug}/{language}/{width}/{name}.png"
        (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(self.root / relative), full_page=True)
        self.taken.append({"page": name, "language": language, "width": width, "file": relative})

    def write_index(self) -> Path | None:
        """Write the list of each language's shots next to them and rebuild ``index.html`` from
        every city's and language's list (under xdist the others are other workers' tests,
        hence the lock)."""
        if self.root is None:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "index.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for language in sorted({shot["language"] for shot in self.taken}):
                mine = [shot for shot in self.taken if shot["language"] == language]
                (self.root / self.slug / language / "shots.json").write_text(json.dumps(mine, indent=1), encoding="utf-8")
            cities: dict[str, list[dict]] = {}
            for path in sorted(self.root.glob("*/*/shots.json")):
                cities.setdefault(path.parent.parent.name, []).extend(json.loads(path.read_text(encoding="utf-8")))
            (self.root / "index.html").write_text(index_html(cities), encoding="utf-8")
        return self.root / "index.html"


def index_html(cities: dict[str, list[dict]]) -> str:
    """A page per run: for each city a table, a row per page, a thumbnail per language and width."""
    count = sum(len(shots) for shots in cities.values())
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Citizen pages</title>',
             "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
             "img{width:160px;display:block}table{border-collapse:collapse}</style></head><body>",
             f"<h1>Citizen pages: {count} screenshots</h1>",
             "<p>Taken by tests/browser/test_axe.py (the axe walk) with SCREENSHOTS_DIR set.</p>"]
    for slug, shots in cities.items():
        columns = sorted({(shot["language"], shot["width"]) for shot in shots}, key=lambda c: (c[0] != "ja", c))
        pages: dict[str, dict] = {}
        for shot in shots:
            pages.setdefault(shot["page"], {})[(shot["language"], shot["width"])] = shot["file"]
        parts.append(f"<h2>{html.escape(slug)}: {len(pages)} pages, {len(shots)} screenshots</h2><table><tr><th>page</th>")
        parts += [f"<th>{html.escape(language)} {width} px</th>" for language, width in columns]
        parts.append("</tr>")
        for name in sorted(pages):
            parts.append(f"<tr><th>{html.escape(name)}</th>")
            for column in columns:
                file = pages[name].get(column)
                parts.append(f'<td><a href="{html.escape(file)}"><img src="{html.escape(file)}" loading="lazy" '
                             f'alt="{html.escape(name)} {column[0]} {column[1]}"></a></td>' if file else "<td></td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
