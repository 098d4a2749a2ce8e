"""Bill rows: a fast path for the clean common case and, for a row that fails it, one named
check per rule that lists every problem (as validation.py does for contracts).

Payment details (issue 12 §3): a file with any PAYMENT_COLUMNS is checked row by row too.

適格請求書 (issue 12): a file without the optional INVOICE_COLUMNS has everything at 10%,
and its ``tax`` must be the tax in ``total`` rounded once by the city's rule
(``[invoice] rounding``); a file with any of them (holder_name, taxable_10, tax_10,
taxable_8, tax_8) is checked row by row (``explain``: the fast paths do not read them),
and its breakdown must add up to ``total`` and ``tax``.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import repeat
from operator import add, eq, itemgetter, le, or_, sub
from typing import Any

from waterportal.billing import slip
from waterportal.billing.payments import METHODS, TRANSFER_RESULTS
from waterportal.core.invoice_numbers import ROUNDINGS, included_tax
from waterportal.imports.reading import Problem, shown
from waterportal.imports.validation import (
    BILL_COLUMNS,
    INT_MAX,
    INVOICE_COLUMNS,
    NOT_DATE,
    NOT_INT,
    NOT_MONTH,
    PAYMENT_COLUMNS,
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
FLAGS = {"": 0, "0": 0, "1": 1}  # meter_exchanged as written -> stored
NO_INVOICE = (None,) * len(INVOICE_COLUMNS)  # a file without the invoice columns stores NULLs
NO_EXTRAS = (None,) * (len(INVOICE_COLUMNS) + len(PAYMENT_COLUMNS))  # ... nor the payment columns
HOLDER_MAX = 100
MESSAGE_MAX = 200
TRANSFER_CODES = "、".join(f"{code} {meaning}" for code, meaning in TRANSFER_RESULTS.items())


class _Memo(dict):
    """Valid values seen so far (dates and months repeat on every row, totals often); a miss
    checks once. An invalid value (``check`` gives None) raises KeyError and is not remembered.
    """

    def __init__(self, check: Callable[[Any], Any]):
        super().__init__()
        self.check = check

    def __missing__(self, raw: Any) -> Any:
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

    def __init__(self, index: Mapping[str, int], digits: int, slots: Mapping[str, int], ids: Sequence[int],
                 rounding: str = "floor"):
        self.pick = itemgetter(*(index[name] for name in BILL_COLUMNS))
        self.exchanged_at = index.get("meter_exchanged")
        self.invoice_at = {name: index[name] for name in INVOICE_COLUMNS if name in index}
        self.payment_at = {name: index[name] for name in PAYMENT_COLUMNS if name in index}
        self.row_by_row = bool(self.invoice_at or self.payment_at)  # the fast paths read neither
        self.rounding = rounding
        self.included = partial(included_tax, rate=10, rounding=rounding)
        self.taxes = _Memo(self.included)  # total -> the tax in it (totals repeat: computed once each)
        self.digits = digits
        self.contract_ids = slots
        self.ids = ids
        self.dates = _Memo(_date)
        self.months = _Memo(_month)

    def fast(self, record: list[str]) -> BillRow | None:
        """Clean ASCII values that pass every rule with the row to write (``contract_id,
        billing_month, *BILL_VALUES``), or ``None`` (then ``explain`` says why)."""
        if self.row_by_row:
            return None
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
        if tax != self.taxes[total]:
            return None
        return v[0], month, slot, (self.ids[slot], month, start, end, reading, previous, current, usage,
                                   exchanged, water, sewer, tax, total, due, paid, *NO_EXTRAS)

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
        invoice = self._check_invoice(record, tax, total, bad)
        payment = self._check_payment(record, total, due, bad)
        if len(problems) > before:
            return number, month, slot, None
        return number, month, slot, (self.ids[slot], month, start, end, reading, previous, current,  # type: ignore[index]
                                     usage, exchanged, water, sewer, tax, total, due, paid, *invoice, *payment)

    def _check_payment(self, record: list[str], total: int | None, due: str | None, bad: Report) -> tuple[Any, ...]:
        """The optional payment columns: a known method, a date, a 全銀 振替結果コード (only for
        口座振替), a 通信欄 of at most MESSAGE_MAX characters and 収納代行 data whose check digit,
        amount and due date are the bill's (billing.slip). Returns the PAYMENT_COLUMNS values."""
        raw = {name: record[at].strip() for name, at in self.payment_at.items()}
        method = _nfkc(raw.get("payment_method", "")) or None
        if method is not None and method not in METHODS:
            bad("payment_method", f"支払方法は {'・'.join(METHODS)} のいずれかで入力してください: {shown(method)}")
        transfer_date = _check_date("transfer_date", raw["transfer_date"], bad) if raw.get("transfer_date") else None
        code = _nfkc(raw.get("transfer_result", "")) or None
        if code is not None and code not in TRANSFER_RESULTS:
            bad("transfer_result", f"振替結果コード {shown(code)} は全銀協の振替結果コード ({TRANSFER_CODES}) ではありません")
        if (code or transfer_date) and method not in (None, METHODS[0]):
            bad("payment_method", f"振替予定日・振替結果は支払方法が{METHODS[0]}の請求にだけ入力できます ({method})")
        message = " ".join(_nfkc(raw.get("message", "")).split()) or None
        if message is not None and len(message) > MESSAGE_MAX:
            bad("message", f"通信欄は{MESSAGE_MAX}文字以内で入力してください ({len(message)}文字)")
        barcode = _nfkc(raw.get("payment_barcode", "")).replace(" ", "").replace("-", "") or None
        if barcode is not None:
            due_date = dt.date.fromisoformat(due) if due else None
            for problem in slip.problems(barcode, total=total, due_date=due_date):
                bad("payment_barcode", problem)
        return method, transfer_date, code, message, barcode

    def _check_invoice(self, record: list[str], tax: int | None, total: int | None, bad: Report) -> tuple[Any, ...]:
        """The optional holder name and tax breakdown; without a breakdown, ``tax`` is the tax in
        ``total`` at 10% by the city's rounding rule. Returns the INVOICE_COLUMNS values."""
        raw = {name: record[at].strip() for name, at in self.invoice_at.items()}
        holder = " ".join(_nfkc(raw.get("holder_name", "")).split()) or None
        if holder is not None and len(holder) > HOLDER_MAX:
            bad("holder_name", f"{HOLDER_MAX}文字以内で入力してください ({len(holder)}文字)")
        amounts: dict[str, int | None] = {}
        for name in INVOICE_COLUMNS[1:]:
            if raw.get(name):
                amounts[name] = _check_amount(name, raw[name], bad)
        if tax is None or total is None or tax > total or None in amounts.values():
            return (holder, *(amounts.get(name) for name in INVOICE_COLUMNS[1:]))
        if not amounts:
            expected = self.included(total)
            if tax != expected:
                bad("tax", f"消費税額 {tax} が合計 {total} に含まれる10%の消費税 ({ROUNDINGS[self.rounding]}で "
                           f"{expected}) と一致しません。税率ごとの内訳は taxable_10・tax_10 列で送ってください")
            return (holder, *NO_INVOICE[1:])
        taxable_10, tax_10, taxable_8, tax_8 = (amounts.get(name) or 0 for name in INVOICE_COLUMNS[1:])
        _check_breakdown(taxable_10, tax_10, taxable_8, tax_8, tax, total, bad)
        return holder, taxable_10, tax_10, taxable_8, tax_8

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


def _check_breakdown(taxable_10: int, tax_10: int, taxable_8: int, tax_8: int, tax: int, total: int,
                     bad: Report) -> None:
    """The amounts per rate add up to the total, their taxes to the tax, each tax within its amount."""
    if taxable_10 + taxable_8 != total:
        bad("taxable_10", f"税率ごとの対象額 ({taxable_10} + {taxable_8} = {taxable_10 + taxable_8}) が"
                          f"合計 {total} と一致しません")
    if tax_10 + tax_8 != tax:
        bad("tax_10", f"税率ごとの消費税額 ({tax_10} + {tax_8} = {tax_10 + tax_8}) が消費税額 {tax} と一致しません")
    for column, part, amount in (("tax_10", tax_10, taxable_10), ("tax_8", tax_8, taxable_8)):
        if part > amount:
            bad(column, f"消費税額 {part} が対象額 {amount} を超えています")


def _int_columns(columns: Iterable[Sequence[str]]) -> list[list[int]] | None:
    """Each column of plain ASCII digits as ints (none missing, none past INT_MAX), or None."""
    result = []
    for raw in columns:
        joined = "".join(raw)
        # isdigit() over the joined text rejects signs, spaces, commas, points; then JSON's
        # parser reads the column as one list (faster than int() per value) and refuses an
        # empty value ("[1,,2]"), a leading zero and a number of 4,300 digits or more.
        # At most INT_MAX's 10 digits a value on average: the work of parsing stays bounded.
        if not (joined.isdigit() and joined.isascii()) or len(joined) > len(str(INT_MAX)) * len(raw):
            return None
        try:
            values = json.loads(f"[{','.join(raw)}]")
        except ValueError:
            return None
        if max(values) > INT_MAX:
            return None
        result.append(values)
    return result


def _repeated(number: str, month: str, first: int) -> str:
    return f"お客様番号 {number} の {month} 分が {first} 行目と重複しています"


class BillRows:
    """Validates a bills file chunk by chunk in constant memory.

    A chunk is checked column by column first (:meth:`_clean_chunk`: the values of each
    column at once, in C where Python allows: ``zip``, ``set``, ``map``, string and list
    comparisons), the clean common case of an export; a chunk that fails anything there is
    checked again row by row (``fast``, then ``explain`` for a row that fails it), which names
    every problem with its line.

    A customer number and month may appear once per file. Seen keys are one byte per
    (month, contract slot): ``contracts`` bytes a month (42 KB a month for 42,000 contracts).
    A repeat found that way is kept as (line, number, month); :meth:`explain_repeats` reads the
    file once more to name the first line of each (a rejected file only). Keys of unknown
    customer numbers (errors anyway) go in a dict.
    """

    def __init__(self, index: Mapping[str, int], digits: int, slots: Mapping[str, int], ids: Sequence[int],
                 rounding: str = "floor"):
        self.checker = _BillChecker(index, digits, slots, ids, rounding)
        self.width = len(index)
        self.at = [index[name] for name in BILL_COLUMNS]
        self.contracts = len(ids)
        self.month_at: dict[str, int] = {}  # month -> its first key, month_number * contracts
        self.seen = bytearray()
        self.unknown: dict[tuple[str, str], int] = {}
        self.repeats: list[tuple[int, str, str]] = []

    def _month_base(self, month: str) -> int:
        base = self.month_at.get(month)
        if base is None:
            base = self.month_at[month] = len(self.seen)
            self.seen.extend(bytes(self.contracts))
        return base

    def check(self, lines: Sequence[int], records: Sequence[list[str]],
              problems: list[Problem]) -> list[tuple[Any, ...]]:
        """The clean rows of ``records`` (on ``lines``) as ``(contract_id, billing_month, *values in
        BILL_VALUES order)``."""
        clean = self._clean_chunk(records)
        if clean is not None:
            return clean
        checker, width, seen = self.checker, self.width, self.seen
        fast, explain = checker.fast, checker.explain
        clean = []
        keep = clean.append
        for line, record in zip(lines, records, strict=True):
            if len(record) != width and not _width_ok(record, width, line, problems):
                continue
            number, month, slot, row = fast(record) or explain(record, line, problems)
            if number is not None and month is not None:
                if slot is None:
                    first = self.unknown.setdefault((number, month), line)
                    if first != line:
                        problems.append(Problem(line, "customer_number", _repeated(number, month, first)))
                    continue
                key = self._month_base(month) + slot
                if seen[key]:
                    self.repeats.append((line, number, month))
                    continue
                seen[key] = 1
            if row is not None:
                keep(row)
        return clean

    def _known_values(self, numbers: Sequence[str], months: Sequence[str], dates: Iterable[Sequence[str]],
                      paid: Sequence[str]) -> tuple[list[int], dict[str, str | None]] | None:
        """The contract slot of each customer number and the stored paid_on of each value
        written, when every number, month and date is one of this city's, written as stored; else None."""
        checker = self.checker
        if set(map(len, numbers)) != {checker.digits}:  # a contract made before the city's digits changed
            return None
        try:
            slots = list(map(checker.contract_ids.__getitem__, numbers))  # KeyError: unknown or not clean
            for memo, values in ((checker.months, months), *((checker.dates, column) for column in dates)):
                for value in set(values):
                    if memo[value] != value:  # KeyError when invalid; written other than as stored
                        return None
            paid_on: dict[str, str | None] = dict.fromkeys(paid)
            for value in paid_on:
                paid_on[value] = checker.dates[value] if value else None
        except KeyError:
            return None
        return slots, paid_on

    def _clean_chunk(self, records: Sequence[list[str]]) -> list[tuple[Any, ...]] | None:
        """The rows of a chunk whose every value is clean ASCII and passes every rule, checked a
        column at a time (the same rules as ``_BillChecker.fast``), with their keys marked seen;
        ``None`` (nothing marked) when anything fails: then the rows are checked one by one."""
        checker = self.checker
        if not records or checker.row_by_row or set(map(len, records)) != {self.width}:
            return None
        columns = list(zip(*records, strict=True))
        numbers, months, starts, ends, readings, *raw_amounts, dues, paid = (columns[at] for at in self.at)
        known = self._known_values(numbers, months, (starts, ends, readings, dues), paid)
        if known is None:
            return None
        slots, paid_on = known
        amounts = _int_columns(raw_amounts)
        if amounts is None:
            return None
        previous, current, usage, water, sewer, tax, total = amounts
        if not all(map(le, starts, ends)) or not all(map(le, tax, total)):
            return None
        if list(map(add, water, sewer)) != total or list(map(checker.taxes.__getitem__, total)) != tax:
            return None
        if checker.exchanged_at is None:
            exchanged: Iterable[int] = repeat(0, len(records))
            if list(map(sub, current, previous)) != usage:
                return None
        else:
            flags = columns[checker.exchanged_at]
            if not set(flags) <= FLAGS.keys():
                return None
            exchanged = list(map(FLAGS.__getitem__, flags))
            if not all(map(or_, map(eq, map(sub, current, previous), usage), exchanged)):
                return None
        bases = {month: self._month_base(month) for month in set(months)}
        keys = list(map(add, map(bases.__getitem__, months), slots))
        seen = self.seen
        if len(set(keys)) != len(keys) or any(map(seen.__getitem__, keys)):
            return None  # a repeat: the rows one by one say which
        for key in keys:
            seen[key] = 1
        # The invoice columns (NULL here) as endless repeats: zip stops at the columns' common length.
        return list(zip(map(checker.ids.__getitem__, slots), months, starts, ends, readings, previous, current, usage,
                        exchanged, water, sewer, tax, total, dues, map(paid_on.__getitem__, paid),
                        *(repeat(None) for _ in NO_EXTRAS), strict=False))

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
