"""Demo daily readings (issue 14 §6): the demo members' first contracts have smart meters.

``readings.csv`` (for ``flask import readings``) holds the 60 days before the city's today,
so ④ グラフ shows its 30 days and the 見守り form offers the contract. The use is a household's
(about 0.2-0.4 m³ a day, more at weekends), from a generator seeded by city and day: the same
day always reads the same, so a later run only adds days.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

READING_COLUMNS = ("customer_number", "reading_date", "usage_m3")
# The demo members' first contracts (demo/members.py DEMO_MEMBERS).
SMART_METERS = {"nayoro": "00012345682", "kanazawa": "0100012345"}
DAYS = 60


def reading_rows(slug: str, today: dt.date, seed: str, days: int = DAYS) -> list[dict[str, str]]:
    """The demo smart meter's rows for the ``days`` days before ``today`` (oldest first)."""
    rows = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        rng = random.Random(f"{seed}:{slug}:reading:{day.isoformat()}")  # noqa: S311 - demo data
        litres = rng.randint(180, 320) + (80 if day.weekday() >= 5 else 0)
        rows.append({"customer_number": SMART_METERS[slug], "reading_date": day.isoformat(),
                     "usage_m3": f"{litres / 1000:.3f}"})
    return rows


def write_readings(outdir: Path, slug: str, encoding: str, today: dt.date, seed: str) -> Path | None:
    """Write ``outdir/<slug>/readings.csv`` in the city's encoding; None for a city without a demo meter."""
    if slug not in SMART_METERS:
        return None
    path = Path(outdir) / slug / "readings.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=READING_COLUMNS,
                                lineterminator="\r\n" if encoding == "cp932" else "\n")
        writer.writeheader()
        writer.writerows(reading_rows(slug, today, seed))
    return path
