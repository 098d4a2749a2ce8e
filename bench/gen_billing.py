"""Deterministic billing-system exports for benchmarks and demos.

``python bench/gen_billing.py --rows 100000 --digits 11 OUT_DIR`` writes OUT_DIR/contracts.csv
and OUT_DIR/bills.csv: ceil(rows / months) contracts with ``months`` monthly bills each
(the last bills are cut so there are exactly ``rows``). Readings run on from month to
month, charges add up and tax is the 10% included in the total, so every row validates.
"""
from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import math
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

CONTRACT_HEADER = ["customer_number", "holder_name", "holder_name_kana", "phone", "address", "meter_number",
                   "meter_diameter_mm"]
BILL_HEADER = ["customer_number", "billing_month", "period_start", "period_end", "reading_date",
               "previous_reading", "current_reading", "usage_m3", "water_charge", "sewer_charge", "tax",
               "total", "due_date", "paid_on"]
SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
            ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("幸子", "サチコ"), ("健", "ケン")]


def months_ending(last: str, count: int) -> list[str]:
    """``count`` billing months ``YYYY-MM`` up to and including ``last``."""
    year, month = map(int, last.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def contract_rows(count: int, digits: int, seed: int = 1) -> list[list[str]]:
    """``count`` contracts with customer numbers 1, 2, ... zero-padded to ``digits``."""
    rnd = random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        surname, given = rnd.choice(SURNAMES), rnd.choice(GIVEN)
        rows.append([
            str(n).zfill(digits), f"{surname[0]} {given[0]}", f"{surname[1]} {given[1]}",
            f"01654{rnd.randrange(10**5):05d}", f"風連町西町{rnd.randrange(1, 400)}番地{rnd.randrange(1, 30)}",
            f"M{n:07d}", str(rnd.choice([13, 13, 13, 20, 25])),
        ])
    return rows


def bill_rows(customer_numbers: list[str], months: list[str], limit: int | None = None,
              seed: int = 2) -> Iterator[list[str]]:
    """Monthly bills for each customer over ``months``; the last month is unpaid (a stream: a
    million rows are written without being held)."""
    rnd = random.Random(seed)
    count = 0
    for number in customer_numbers:
        reading = rnd.randrange(5000)
        for month in months:
            year, mon = map(int, month.split("-"))
            start = dt.date(year, mon, 1) - dt.timedelta(days=1)
            start = start.replace(day=1)
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
            usage = rnd.randrange(3, 40)
            water, sewer = 1100 + usage * 165, 900 + usage * 130
            total = water + sewer
            due = dt.date(year, mon, calendar.monthrange(year, mon)[1])
            paid = "" if month == months[-1] else (due - dt.timedelta(days=rnd.randrange(0, 20))).isoformat()
            yield [
                number, month, start.isoformat(), end.isoformat(), end.isoformat(), str(reading),
                str(reading + usage), str(usage), str(water), str(sewer), str(total * 10 // 110), str(total),
                due.isoformat(), paid,
            ]
            reading += usage
            count += 1
            if limit is not None and count >= limit:
                return


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]], encoding: str = "utf-8") -> Path:
    """Write ``header`` and ``rows`` as CSV in ``encoding`` (``cp932`` for Shift_JIS)."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generate(out_dir: Path, rows: int, digits: int, months: int = 24, last_month: str = "2026-10",
             encoding: str = "utf-8") -> tuple[Path, Path]:
    """Write contracts.csv and bills.csv for ``rows`` bills; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    contracts = contract_rows(math.ceil(rows / months), digits)
    bills = bill_rows([c[0] for c in contracts], months_ending(last_month, months), limit=rows)
    return (write_csv(out_dir / "contracts.csv", CONTRACT_HEADER, contracts, encoding),
            write_csv(out_dir / "bills.csv", BILL_HEADER, bills, encoding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--digits", type=int, default=11, help="customer number digits (nayoro 11, kanazawa 10)")
    parser.add_argument("--encoding", default="utf-8", help="utf-8, utf-8-sig or cp932")
    args = parser.parse_args()
    for path in generate(args.out_dir, args.rows, args.digits, args.months, encoding=args.encoding):
        print(path)


if __name__ == "__main__":
    main()
