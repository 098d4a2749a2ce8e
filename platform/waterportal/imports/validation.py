"""Row validation for each export kind: plain functions over lists of strings (no ORM objects).

Each validator returns the clean rows keyed by their natural key and appends every
problem it finds (it never stops at the first one), so a clerk can fix a file in one go.
Values stay in the form the writers need: ISO date strings (``YYYY-MM-DD``, also the way
SQLAlchemy stores dates on SQLite and a literal PostgreSQL reads), ints, 0/1 flags.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from waterportal.core.text import digits_only, is_katakana, katakana_name, squash_spaces
from waterportal.imports.reading import SHOWN, Problem, shown

CONTRACT_COLUMNS = (
    "customer_number", "holder_name", "holder_name_kana", "phone", "address", "meter_number",
    "meter_diameter_mm",
)
BILL_COLUMNS = (
    "customer_number", "billing_month", "period_start", "period_end", "reading_date",
    "previous_reading", "current_reading", "usage_m3", "water_charge", "sewer_charge", "tax",
    "total", "due_date", "paid_on",
)
BILL_OPTIONAL = ("meter_exchanged",)
# The stored values of a bill, in this order (the natural key is contract_id, billing_month).
BILL_VALUES = (
    "period_start", "period_end", "reading_date", "previous_reading", "current_reading", "usage_m3",
    "meter_exchanged", "water_charge", "sewer_charge", "tax", "total", "due_date", "paid_on",
)
CONTRACT_VALUES = CONTRACT_COLUMNS[1:]
LIMITS = {"holder_name": 100, "holder_name_kana": 100, "address": 300, "meter_number": 30}

REQUIRED = "必須です"
NOT_INT = "0以上の整数で入力してください"
# The database's INTEGER (PostgreSQL int4): a larger reading or amount could not be stored.
INT_MAX = 2_147_483_647
TOO_LARGE = f"{INT_MAX}以下の整数で入力してください"
NOT_DATE = "日付は YYYY-MM-DD の形式で入力してください"
NOT_MONTH = "請求月は YYYY-MM の形式で入力してください"
STEP = 5000  # rows between progress reports


def _nfkc(value: str) -> str:
    # Full-width digits, hyphens and letters -> ASCII; only paid for non-ASCII input.
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def _int(value: str) -> int | None:
    """A non-negative integer, or None. Anything past INT_MAX comes back as INT_MAX + 1:
    a 100,000-digit field is never parsed (int() refuses past 4,300 digits anyway)."""
    value = _nfkc(value)
    if not (value.isdigit() and value.isascii()):
        return None
    digits = value.lstrip("0")
    return int(digits or "0") if len(digits) <= len(str(INT_MAX)) else INT_MAX + 1


def _date(value: str) -> str | None:
    value = _nfkc(value)
    # fromisoformat also takes 20240501 and week dates; the export format is YYYY-MM-DD only.
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def _month(value: str) -> str | None:
    value = _nfkc(value)
    shaped = len(value) == 7 and value[4] == "-" and value.isascii()
    if shaped and value[:4].isdigit() and value[5:].isdigit() and 1 <= int(value[5:]) <= 12:
        return value
    return None


def _customer_number(value: str, digits: int) -> str | None:
    number = value if value.isdigit() and value.isascii() else digits_only(value)
    return number if len(number) == digits and number.isdigit() and number.isascii() else None


def _number_problem(raw: str, digits: int) -> str:
    return f"お客様番号は{digits}桁の数字で入力してください: {shown(raw)}" if raw else REQUIRED


def map_header(header: Sequence[str], required: Sequence[str], optional: Sequence[str], line: int,
               problems: list[Problem]) -> dict[str, int] | None:
    """Column name -> index, in any order. Missing, unknown or repeated columns are file errors."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        label = (name[:SHOWN] + "…" if len(name) > SHOWN else name) or "-"
        if name in index:
            problems.append(Problem(line, label, "列名が重複しています"))
        elif name not in required and name not in optional:
            problems.append(Problem(line, label, "不明な列です"))
        index.setdefault(name, position)
    for name in required:
        if name not in index:
            problems.append(Problem(line, name, "必須の列がありません"))
    return None if problems else index


def _width_ok(record: list[str], width: int, line: int, problems: list[Problem]) -> bool:
    if len(record) == width:
        return True
    problems.append(Problem(line, "-", f"列の数が見出し行と違います (見出し {width} 列、この行 {len(record)} 列)"))
    return False


def validate_contracts(rows: Sequence[tuple[int, list[str]]], index: Mapping[str, int], digits: int,
                       problems: list[Problem], progress: Callable[[int], None] | None = None
                       ) -> dict[str, tuple[int, tuple[Any, ...]]]:
    """Validate contract rows: ``{customer_number: (line, values in CONTRACT_VALUES order)}``."""
    pick = itemgetter(*(index[name] for name in CONTRACT_COLUMNS))
    width = len(index)
    clean: dict[str, tuple[int, tuple[Any, ...]]] = {}
    seen: dict[str, int] = {}
    for count, (line, record) in enumerate(rows, 1):
        if progress and count % STEP == 0:
            progress(STEP)
        if not _width_ok(record, width, line, problems):
            continue
        raw_number, name, kana, phone, address, meter, diameter = (v.strip() for v in pick(record))
        before = len(problems)

        def bad(column: str, message: str) -> None:
            problems.append(Problem(line, column, message))  # noqa: B023 - used in this iteration only

        number = _customer_number(raw_number, digits)
        if number is None:
            bad("customer_number", _number_problem(raw_number, digits))
        name = squash_spaces(name)
        kana = katakana_name(kana)
        address = squash_spaces(address)
        meter = _nfkc(meter).strip()
        for column, value in (("holder_name", name), ("holder_name_kana", kana), ("address", address),
                              ("meter_number", meter)):
            if not value:
                bad(column, REQUIRED)
            elif len(value) > LIMITS[column]:
                bad(column, f"{LIMITS[column]}文字以内で入力してください")
        if kana and not is_katakana(kana):
            bad("holder_name_kana", f"カナ氏名はカタカナで入力してください: {shown(kana)}")
        phone = digits_only(phone)
        if not phone:
            bad("phone", REQUIRED)
        elif not (phone.isdigit() and phone.isascii() and 10 <= len(phone) <= 11 and phone[0] == "0"):
            bad("phone", f"電話番号は0から始まる10桁または11桁の数字で入力してください: {shown(phone)}")
        size = _int(diameter)
        if not diameter:
            bad("meter_diameter_mm", REQUIRED)
        elif size is None or not 1 <= size <= 999:
            bad("meter_diameter_mm", f"口径(mm)は1から999の整数で入力してください: {shown(diameter)}")
        if number is not None:
            first = seen.setdefault(number, line)
            if first != line:
                bad("customer_number", f"お客様番号 {number} が {first} 行目と重複しています")
        if len(problems) == before:
            clean[number] = (line, (name, kana, phone, address, meter, size))
    if progress and len(rows) % STEP:
        progress(len(rows) % STEP)
    return clean


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


BillRow = tuple[str | None, str | None, int | None, tuple[Any, ...] | None]


class _BillChecker:
    """Checks one bill row: ``fast`` for the clean common case, ``explain`` to list every problem."""

    def __init__(self, index: Mapping[str, int], digits: int, contract_ids: Mapping[str, int]):
        self.pick = itemgetter(*(index[name] for name in BILL_COLUMNS))
        self.exchanged_at = index.get("meter_exchanged")
        self.digits = digits
        self.contract_ids = contract_ids
        self.dates = _Memo(_date)
        self.months = _Memo(_month)

    def fast(self, record: list[str]) -> BillRow | None:
        """Clean ASCII values that pass every rule, or ``None`` (then ``explain`` says why)."""
        v = self.pick(record)
        dates = self.dates
        try:
            if len(v[0]) != self.digits:
                return None
            contract_id = self.contract_ids[v[0]]
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
        return v[0], month, contract_id, (start, end, reading, previous, current, usage, exchanged,
                                          water, sewer, tax, total, due, paid)

    def explain(self, record: list[str], line: int, problems: list[Problem]) -> BillRow:
        """Check every field and rule of a row, adding each problem; values are None if any."""
        values = self.pick(record)
        before = len(problems)

        def bad(column: str, message: str) -> None:
            problems.append(Problem(line, column, message))

        raw_number = values[0].strip()
        number = _customer_number(raw_number, self.digits)
        contract_id = None
        if number is None:
            bad("customer_number", _number_problem(raw_number, self.digits))
        else:
            contract_id = self.contract_ids.get(number)
            if contract_id is None:
                bad("customer_number", f"お客様番号 {number} の契約が登録されていません")
        month = _month(values[1].strip())
        if month is None:
            bad("billing_month", f"{NOT_MONTH}: {shown(values[1].strip())}")
        dates = []
        for column, raw in zip(("period_start", "period_end", "reading_date", "due_date", "paid_on"),
                               (values[2], values[3], values[4], values[12], values[13]), strict=True):
            raw = raw.strip()
            value = _date(raw) if raw else None
            if not raw and column != "paid_on":  # an empty paid_on means not paid yet
                bad(column, REQUIRED)
            elif raw and value is None:
                bad(column, f"{NOT_DATE}: {shown(raw)}")
            dates.append(value)
        start, end, reading, due, paid = dates
        amounts = []
        for column, raw in zip(("previous_reading", "current_reading", "usage_m3", "water_charge",
                                "sewer_charge", "tax", "total"), values[5:12], strict=True):
            raw = raw.strip()
            value = _int(raw)
            if value is None:
                bad(column, f"{NOT_INT}: {shown(raw)}" if raw else REQUIRED)
            elif value > INT_MAX:
                bad(column, f"{TOO_LARGE}: {shown(raw)}")
                value = None
            amounts.append(value)
        previous, current, usage, water, sewer, tax, total = amounts
        exchanged = 0
        if self.exchanged_at is not None:
            flag = _nfkc(record[self.exchanged_at].strip())
            if flag not in ("", "0", "1"):
                bad("meter_exchanged", f"メーター交換は 0 または 1 で入力してください: {shown(flag)}")
            exchanged = 1 if flag == "1" else 0
        if start and end and start > end:
            bad("period_end", f"使用期間の終了日 {end} が開始日 {start} より前です")
        readings_known = previous is not None and current is not None and usage is not None
        if readings_known and not exchanged and usage != current - previous:
            hint = " (メーター交換の行は meter_exchanged を 1 にしてください)" if current < previous else ""
            bad("usage_m3", f"使用水量 {usage} が今回指針 − 前回指針 ({current} − {previous} = "
                            f"{current - previous}) と一致しません{hint}")
        if water is not None and sewer is not None and total is not None and total != water + sewer:
            bad("total", f"合計 {total} が水道料金 + 下水道料金 ({water} + {sewer} = {water + sewer}) と一致しません")
        if tax is not None and total is not None and tax > total:
            bad("tax", f"消費税額 {tax} は 0 以上、合計 {total} 以下で入力してください")
        if len(problems) > before:
            return number, month, contract_id, None
        return number, month, contract_id, (start, end, reading, previous, current, usage, exchanged,
                                            water, sewer, tax, total, due, paid)


def validate_bills(rows: Sequence[tuple[int, list[str]]], index: Mapping[str, int], digits: int,
                   contract_ids: Mapping[str, int], problems: list[Problem],
                   progress: Callable[[int], None] | None = None
                   ) -> dict[tuple[int, str], tuple[int, tuple[Any, ...]]]:
    """Validate bill rows: ``{(contract_id, billing_month): (line, values in BILL_VALUES order)}``.

    ``contract_ids`` maps this city's customer numbers to contract ids; a bill of any other
    number is refused. A customer number and month may appear once per file.
    """
    checker = _BillChecker(index, digits, contract_ids)
    width = len(index)
    clean: dict[tuple[int, str], tuple[int, tuple[Any, ...]]] = {}
    seen: dict[tuple[str, str], int] = {}
    for count, (line, record) in enumerate(rows, 1):
        if progress and count % STEP == 0:
            progress(STEP)
        if len(record) != width and not _width_ok(record, width, line, problems):
            continue
        number, month, contract_id, values = checker.fast(record) or checker.explain(record, line, problems)
        if number is not None and month is not None:
            first = seen.setdefault((number, month), line)
            if first != line:
                problems.append(Problem(line, "customer_number",
                                        f"お客様番号 {number} の {month} 分が {first} 行目と重複しています"))
                continue
        if values is not None:
            clean[(contract_id, month)] = (line, values)  # type: ignore[index]
    if progress and len(rows) % STEP:
        progress(len(rows) % STEP)
    return clean
