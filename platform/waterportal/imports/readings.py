"""The daily readings import (issue 14 §6, ``flask import readings``): smart meters' daily use.

``customer_number,reading_date,usage_m3``: one contract's use on one day in m³ with up to three
decimals (stored exactly, in litres). Read, checked and written like the bills
(imports/services.py): streamed in chunks, every problem reported by line and column, a file
with any problem writes nothing, and an upsert on (city, contract, day) that leaves an
identical row alone, so the same file imported twice changes nothing the second time.
A city with 100,000 smart meters sends about 3 million rows a month: nothing here holds the
file; what grows is one bit per contract and day named in the file (the "once per file" rule).

After a clean import the 見守り check of the city is recorded as a job for the outbox worker
(readings.watch), in the same transaction.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.imports import writers
from waterportal.imports.reading import Problem, Source, shown
from waterportal.imports.services import (
    ImportResult,
    ProgressCallback,
    _all_or_nothing,
    _digits,
    _gc_paused,
    _load,
    _Run,
    _written,
)
from waterportal.imports.validation import (
    NOT_DATE,
    REQUIRED,
    _customer_number,
    _date,
    _nfkc,
    _number_problem,
    _width_ok,
)
from waterportal.readings.watch import record_watch_check
from waterportal.tenancy.context import TenantContext, tenant_context

READING_COLUMNS = ("customer_number", "reading_date", "usage_m3")
READING_KEY = ("tenant_id", "contract_id", "reading_date")
# A day's use of one meter: up to 99,999.999 m³ (a factory's 口径 100 mm meter uses a few hundred).
USAGE = re.compile(r"^0*([0-9]{1,5})(?:\.([0-9]{1,3}))?$")
DECIMAL = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
NOT_USAGE = "使用水量(m³)は0以上の数で、小数点以下3桁まで入力してください"
TOO_MUCH = "使用水量は1日 99999.999 m³ 以下で入力してください"


def litres(raw: str) -> int | None:
    """``"0.235"`` m³ -> 235 litres; None unless 0-99999.999 with at most three decimals."""
    match = USAGE.match(_nfkc(raw.strip()))
    if match is None:
        return None
    whole, fraction = match.groups()
    return int(whole) * 1000 + int((fraction or "").ljust(3, "0"))


class _Memo(dict):
    """raw value -> checked value, computed once per distinct value (days and usages repeat on
    every row); an invalid value raises KeyError and is not remembered."""

    def __init__(self, check):
        super().__init__()
        self.check = check

    def __missing__(self, raw: str) -> Any:
        value = self.check(raw)
        if value is None:
            raise KeyError(raw)
        self[raw] = value
        return value


class ReadingRows:
    """Validates a readings file chunk by chunk: known contracts of this city, real days not after
    the city's ``today``, usages, each (contract, day) once per file.

    Seen keys are one bit per (day, contract slot): ``contracts / 8`` bytes for each day the file
    names (12.5 KB a day for 100,000 meters). A repeat found that way is kept as (line, number,
    day); :meth:`explain_repeats` reads the file once more to name its first line.
    """

    def __init__(self, index: Mapping[str, int], digits: int, slots: Mapping[str, int], ids: Sequence[int],
                 today: dt.date):
        self.at = tuple(index[name] for name in READING_COLUMNS)
        self.width = len(index)
        self.digits, self.slots, self.ids = digits, slots, ids
        self.today = today.isoformat()
        self.contracts = len(ids)
        self.days = _Memo(self._day)  # raw -> (YYYY-MM-DD, its first key)
        self.bases: dict[str, int] = {}  # YYYY-MM-DD -> its first key (however the day was written)
        self.usages = _Memo(litres)
        self.seen = bytearray()
        self.unknown: dict[tuple[str, str], int] = {}
        self.repeats: list[tuple[int, str, str]] = []

    def _day(self, raw: str) -> tuple[str, int] | None:
        value = _date(raw.strip())
        if value is None or value > self.today:
            return None
        base = self.bases.get(value)
        if base is None:
            base = self.bases[value] = len(self.seen) * 8
            self.seen.extend(bytes(-(-self.contracts // 8) or 1))
        return value, base

    def check(self, lines: Sequence[int], records: Sequence[list[str]],
              problems: list[Problem]) -> list[tuple[Any, ...]]:
        """The clean rows of ``records`` (on ``lines``) as ``(contract_id, reading_date, usage_litres)``."""
        number_at, day_at, usage_at = self.at
        width, slots, ids, days, usages, seen = self.width, self.slots, self.ids, self.days, self.usages, self.seen
        clean: list[tuple[Any, ...]] = []
        keep = clean.append
        for line, record in zip(lines, records, strict=True):
            if len(record) != width:
                _width_ok(record, width, line, problems)
                continue
            try:
                slot = slots[record[number_at]]
                day, base = days[record[day_at]]
                usage = usages[record[usage_at]]
            except KeyError:
                found = self._explain(record, line, problems)
                if found is None:
                    continue
                slot, day, base, usage = found
            key = base + slot
            bit = 1 << (key & 7)
            if seen[key >> 3] & bit:
                self.repeats.append((line, record[number_at].strip(), day))
                continue
            seen[key >> 3] |= bit
            keep((ids[slot], day, usage))
        return clean

    def _explain(self, record: list[str], line: int, problems: list[Problem]) -> tuple[int, str, int, int] | None:
        """Check every field of a row the quick path refused, adding each problem: (slot, day,
        first key, litres) of a clean row, else None."""
        number_at, day_at, usage_at = self.at
        before = len(problems)

        def bad(column: str, message: str) -> None:
            problems.append(Problem(line, column, message))

        raw_number, raw_day, raw_usage = record[number_at].strip(), record[day_at].strip(), record[usage_at].strip()
        number = _customer_number(raw_number, self.digits)
        slot = None
        if number is None:
            bad("customer_number", _number_problem(raw_number, self.digits))
        else:
            slot = self.slots.get(number)
            if slot is None:
                bad("customer_number", f"お客様番号 {number} の契約が登録されていません")
        day = _date(raw_day) if raw_day else None
        if not raw_day:
            bad("reading_date", REQUIRED)
        elif day is None:
            bad("reading_date", f"{NOT_DATE}: {shown(raw_day)}")
        elif day > self.today:
            bad("reading_date", f"{day} は未来の日付です (本日は {self.today})")
        usage = litres(raw_usage)
        if not raw_usage:
            bad("usage_m3", REQUIRED)
        elif usage is None:
            plain = _nfkc(raw_usage)
            too_much = DECIMAL.match(plain) is not None and len(plain.split(".")[0].lstrip("0")) > 5
            bad("usage_m3", f"{TOO_MUCH}: {shown(raw_usage)}" if too_much else f"{NOT_USAGE}: {shown(raw_usage)}")
        if number is not None and slot is None and day is not None:
            first = self.unknown.setdefault((number, day), line)
            if first != line:
                bad("customer_number", _repeated(number, day, first))
        if len(problems) > before:
            return None
        day_value, base = self.days[day]  # type: ignore[index]
        return slot, day_value, base, usage  # type: ignore[return-value]

    def explain_repeats(self, rows: Iterable[tuple[int, list[str]]], problems: list[Problem]) -> None:
        """Add the message of each repeated (contract, day), naming its first line, from a second read."""
        if not self.repeats:
            return
        wanted = {(_customer_number(number, self.digits), day) for _line, number, day in self.repeats}
        firsts: dict[tuple[str | None, str], int] = {}
        number_at, day_at, _usage_at = self.at
        for line, record in rows:
            if len(record) != self.width:
                continue
            key = (_customer_number(record[number_at].strip(), self.digits), _date(record[day_at].strip()) or "")
            if key in wanted:
                firsts.setdefault(key, line)
        for line, number, day in self.repeats:
            clean = _customer_number(number, self.digits)
            problems.append(Problem(line, "customer_number", _repeated(clean or number, day, firsts[(clean, day)])))
        self.repeats = []


def _repeated(number: str, day: str, first: int) -> str:
    return f"お客様番号 {number} の {day} 分が {first} 行目と重複しています"


class ReadingWriter(writers._Writer):  # noqa: SLF001 - the imports package's own base
    """Upserts readings ``(contract_id, reading_date, usage_litres)`` on (city, contract, day)."""

    table, columns, values, key = "meter_readings", ("contract_id", "reading_date", "usage_litres"), \
        ("usage_litres",), READING_KEY


def import_readings(tenant: TenantContext, source: Source, *, filename: str | None = None,
                    actor: str = "", progress: ProgressCallback | None = None) -> ImportResult:
    """Import a daily readings export (upsert on contract and reading_date) for ``tenant``; the
    caller commits. Every customer number must be a contract of ``tenant``, no day after the
    city's today. A clean file also records the city's 見守り check (readings.watch)."""
    with tenant_context(tenant), _gc_paused(), _Run("readings", tenant, source, filename, actor) as run:
        index = run.header(READING_COLUMNS)
        if index is None:
            return run.finish({})
        db.session.flush()
        conn = db.session.connection()
        today = local_now(tenant.timezone).date()
        checker = ReadingRows(index, _digits(tenant), *writers.load_contract_slots(conn, tenant.id), today=today)
        run.lap("contracts")
        with _all_or_nothing() as keep:
            writer = ReadingWriter(db.session.connection(), tenant.id, utcnow_naive())
            counts = writer.merge() if keep(_load(run, checker, writer, progress)) else {}
            if keep.kept:
                record_watch_check(tenant)
        if not keep.kept:
            checker.explain_repeats(run.file.reread(), run.problems)
            return run.finish({})
        _written(progress, writer.rows)
        run.lap("write")
        return run.finish(counts)
