"""Bill rows: a fast path for the clean common case and, for a row that fails it, one named
check per rule that lists every problem (as validation.py does for contracts)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from waterportal.imports.reading import Problem, shown
from waterportal.imports.validation import (
    BILL_COLUMNS,
    INT_MAX,
    NOT_DATE,
    NOT_INT,
    NOT_MONTH,
    REQUIRED,
    TOO_LARGE,
    Report,
    _customer_number,
    _date,
    _int,
    _month,
    _nfkc,
    _number_problem,
    _width_ok,
)

# The bill's date columns with their positions in BILL_COLUMNS, and its amount columns.
BILL_DATES = (("period_start", 2), ("period_end", 3), ("reading_date", 4), ("due_date", 12), ("paid_on", 13))
BILL_AMOUNTS = BILL_COLUMNS[5:12]


class _Memo(dict):
    """Valid values seen so far (dates and months repeat on every row); a miss checks once.

    An invalid value raises KeyError and is not remembered.
    """

    def __init__(self, check: Callable[[str], str | None]):
        super().__init__()
        self.check = check

    def __missing__(self, raw: str) -> str:
        value = self.check(raw)
        if value is None:
            raise KeyError(raw)
        self[raw] = value
        return value


# (customer number, month, contract slot, values or the row to write); None where unknown or invalid.
BillRow = tuple[str | None, str | None, int | None, tuple[Any, ...] | None]


class _BillChecker:
    """Checks one bill row: ``fast`` for the clean common case, ``explain`` to list every problem.

    ``slots`` maps this city's customer numbers to a dense slot (0, 1, ...); ``ids[slot]``
    is that contract's id.
    """

    def __init__(self, index: Mapping[str, int], digits: int, slots: Mapping[str, int], ids: Sequence[int]):
        self.pick = itemgetter(*(index[name] for name in BILL_COLUMNS))
        self.exchanged_at = index.get("meter_exchanged")
        self.digits = digits
        self.contract_ids = slots
        self.ids = ids
        self.dates = _Memo(_date)
        self.months = _Memo(_month)

    def fast(self, record: list[str]) -> BillRow | None:
        """Clean ASCII values that pass every rule with the row to write (``contract_id,
        billing_month, *BILL_VALUES``), or ``None`` (then ``explain`` says why)."""
        v = self.pick(record)
        dates = self.dates
        try:
            if len(v[0]) != self.digits:
                return None
            slot = self.contract_ids[v[0]]
            month = self.months[v[1]]
            start, end, reading, due = dates[v[2]], dates[v[3]], dates[v[4]], dates[v[12]]
            paid = dates[v[13]] if v[13] else None
            raw_amounts = v[5:12]
            # One isdigit() over the joined text rejects signs, spaces, commas; "" fails in int().
            if not "".join(raw_amounts).isdigit():
                return None
            amounts = list(map(int, raw_amounts))
        except (KeyError, ValueError):
            return None
        if max(amounts) > INT_MAX:
            return None
        previous, current, usage, water, sewer, tax, total = amounts
        exchanged = 0
        if self.exchanged_at is not None:
            flag = record[self.exchanged_at]
            if flag not in ("", "0", "1"):
                return None
            exchanged = 1 if flag == "1" else 0
        if start > end or total != water + sewer or tax > total or (not exchanged and usage != current - previous):
            return None
        return v[0], month, slot, (self.ids[slot], month, start, end, reading, previous, current, usage,
                                   exchanged, water, sewer, tax, total, due, paid)

    def explain(self, record: list[str], line: int, problems: list[Problem]) -> BillRow:
        """Check every field and rule of a row, adding each problem; the row is None if any."""
        values = self.pick(record)
        before = len(problems)

        def bad(column: str, message: str) -> None:
            problems.append(Problem(line, column, message))

        number, slot = self._check_contract(values[0].strip(), bad)
        month = _check_month(values[1].strip(), bad)
        start, end, reading, due, paid = (
            _check_date(column, values[at].strip(), bad) for column, at in BILL_DATES
        )
        previous, current, usage, water, sewer, tax, total = (
            _check_amount(column, raw.strip(), bad) for column, raw in zip(BILL_AMOUNTS, values[5:12], strict=True)
        )
        exchanged = self._check_exchanged(record, bad)
        _check_period(start, end, bad)
        _check_usage(previous, current, usage, exchanged, bad)
        _check_total(water, sewer, total, bad)
        _check_tax(tax, total, bad)
        if len(problems) > before:
            return number, month, slot, None
        return number, month, slot, (self.ids[slot], month, start, end, reading, previous, current,  # type: ignore[index]
                                     usage, exchanged, water, sewer, tax, total, due, paid)

    def _check_contract(self, raw: str, bad: Report) -> tuple[str | None, int | None]:
        """The customer number is well formed and names a contract of this city: (number, slot)."""
        number = _customer_number(raw, self.digits)
        if number is None:
            bad("customer_number", _number_problem(raw, self.digits))
            return None, None
        slot = self.contract_ids.get(number)
        if slot is None:
            bad("customer_number", f"お客様番号 {number} の契約が登録されていません")
        return number, slot

    def _check_exchanged(self, record: list[str], bad: Report) -> int:
        """The optional meter_exchanged column holds 0, 1 or nothing (0)."""
        if self.exchanged_at is None:
            return 0
        flag = _nfkc(record[self.exchanged_at].strip())
        if flag not in ("", "0", "1"):
            bad("meter_exchanged", f"メーター交換は 0 または 1 で入力してください: {shown(flag)}")
        return 1 if flag == "1" else 0


def _check_month(raw: str, bad: Report) -> str | None:
    """The billing month is YYYY-MM."""
    month = _month(raw)
    if month is None:
        bad("billing_month", f"{NOT_MONTH}: {shown(raw)}")
    return month


def _check_date(column: str, raw: str, bad: Report) -> str | None:
    """A date is YYYY-MM-DD and required, except paid_on: empty means not paid yet."""
    if not raw:
        if column != "paid_on":
            bad(column, REQUIRED)
        return None
    value = _date(raw)
    if value is None:
        bad(column, f"{NOT_DATE}: {shown(raw)}")
    return value


def _check_amount(column: str, raw: str, bad: Report) -> int | None:
    """A reading or an amount is a required non-negative integer the database can store."""
    value = _int(raw)
    if value is None:
        bad(column, f"{NOT_INT}: {shown(raw)}" if raw else REQUIRED)
    elif value > INT_MAX:
        bad(column, f"{TOO_LARGE}: {shown(raw)}")
        return None
    return value


def _check_period(start: str | None, end: str | None, bad: Report) -> None:
    """The period ends on or after its start."""
    if start and end and start > end:
        bad("period_end", f"使用期間の終了日 {end} が開始日 {start} より前です")


def _check_usage(previous: int | None, current: int | None, usage: int | None, exchanged: int,
                 bad: Report) -> None:
    """The usage is the current reading minus the previous one, unless the meter was exchanged."""
    if previous is None or current is None or usage is None or exchanged or usage == current - previous:
        return
    hint = " (メーター交換の行は meter_exchanged を 1 にしてください)" if current < previous else ""
    bad("usage_m3", f"使用水量 {usage} が今回指針 − 前回指針 ({current} − {previous} = "
                    f"{current - previous}) と一致しません{hint}")


def _check_total(water: int | None, sewer: int | None, total: int | None, bad: Report) -> None:
    """The total is the water charge plus the sewer charge."""
    if water is not None and sewer is not None and total is not None and total != water + sewer:
        bad("total", f"合計 {total} が水道料金 + 下水道料金 ({water} + {sewer} = {water + sewer}) と一致しません")


def _check_tax(tax: int | None, total: int | None, bad: Report) -> None:
    """The consumption tax is part of the total, so at most the total."""
    if tax is not None and total is not None and tax > total:
        bad("tax", f"消費税額 {tax} は 0 以上、合計 {total} 以下で入力してください")


def _repeated(number: str, month: str, first: int) -> str:
    return f"お客様番号 {number} の {month} 分が {first} 行目と重複しています"


class BillRows:
    """Validates a bills file chunk by chunk in constant memory.

    A customer number and month may appear once per file. Seen keys are one bit per
    (month, contract slot): a bytearray per month, ``contracts / 8`` bytes each (5 KB a
    month for 42,000 contracts). A repeat found that way is kept as (line, number, month);
    :meth:`explain_repeats` reads the file once more to name the first line of each (a
    rejected file only). Keys of unknown customer numbers (errors anyway) go in a dict.
    """

    def __init__(self, index: Mapping[str, int], digits: int, slots: Mapping[str, int], ids: Sequence[int]):
        self.checker = _BillChecker(index, digits, slots, ids)
        self.width = len(index)
        self.size = len(ids) // 8 + 1
        self.seen: dict[str, bytearray] = {}
        self.unknown: dict[tuple[str, str], int] = {}
        self.repeats: list[tuple[int, str, str]] = []

    def check(self, rows: Sequence[tuple[int, list[str]]], problems: list[Problem]) -> list[tuple[Any, ...]]:
        """The clean rows of ``rows`` as ``(contract_id, billing_month, *values in BILL_VALUES order)``."""
        checker, width, seen = self.checker, self.width, self.seen
        fast, explain = checker.fast, checker.explain
        clean: list[tuple[Any, ...]] = []
        keep = clean.append
        for line, record in rows:
            if len(record) != width and not _width_ok(record, width, line, problems):
                continue
            number, month, slot, row = fast(record) or explain(record, line, problems)
            if number is not None and month is not None:
                if slot is None:
                    first = self.unknown.setdefault((number, month), line)
                    if first != line:
                        problems.append(Problem(line, "customer_number", _repeated(number, month, first)))
                    continue
                bits = seen.get(month)
                if bits is None:
                    bits = seen[month] = bytearray(self.size)
                mask = 1 << (slot & 7)
                if bits[slot >> 3] & mask:
                    self.repeats.append((line, number, month))
                    continue
                bits[slot >> 3] |= mask
            if row is not None:
                keep(row)
        return clean

    def explain_repeats(self, rows: Iterable[tuple[int, list[str]]], problems: list[Problem]) -> None:
        """Add the message of each repeated key, naming its first line, from a second read of the file."""
        if not self.repeats:
            return
        wanted = {(number, month) for _line, number, month in self.repeats}
        firsts: dict[tuple[str, str], int] = {}
        pick, digits = self.checker.pick, self.checker.digits
        for line, record in rows:
            if len(record) != self.width:
                continue
            values = pick(record)
            key = (_customer_number(values[0].strip(), digits), _month(values[1].strip()))
            if key in wanted:
                firsts.setdefault(key, line)  # type: ignore[arg-type]
        for line, number, month in self.repeats:
            problems.append(Problem(line, "customer_number", _repeated(number, month, firsts[(number, month)])))
        self.repeats = []
