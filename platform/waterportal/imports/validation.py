"""Row validation: the header, the value rules every kind shares, and contract rows (bill rows
in bill_validation.py). Plain functions over lists of strings (no ORM objects).

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

from waterportal.contracts.areas import area_of
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
# 適格請求書 (issue 12): the holder as billed and the amounts (tax included) and tax per rate.
INVOICE_COLUMNS = ("holder_name", "taxable_10", "tax_10", "taxable_8", "tax_8")
# Payment details (issue 12 §3, §4): method, 振替予定日, the 全銀 振替結果コード, the 通信欄 and
# the 44-digit GS1-128 収納代行 data of the 電子納付書.
PAYMENT_COLUMNS = ("payment_method", "transfer_date", "transfer_result", "message", "payment_barcode")
BILL_OPTIONAL = ("meter_exchanged", *INVOICE_COLUMNS, *PAYMENT_COLUMNS)
# The stored values of a bill, in this order (the natural key is contract_id, billing_month).
BILL_VALUES = (
    "period_start", "period_end", "reading_date", "previous_reading", "current_reading", "usage_m3",
    "meter_exchanged", "water_charge", "sewer_charge", "tax", "total", "due_date", "paid_on", *INVOICE_COLUMNS,
    *PAYMENT_COLUMNS,
)
# Optional: the contract's billing cycle (issue 12 §5; without the column the city's applies) and
# the household's number of persons (世帯人数, issue 14 §2: 同じ人数の世帯の平均; empty: not known).
CONTRACT_OPTIONAL = ("billing_cycle", "persons")
PERSONS_MAX = 20
BILLING_CYCLES = ("monthly", "bimonthly")
# Stored with each contract, computed from the row (not a column of the file): the address's
# 町名/丁目 for area alerts (contracts/areas.py, issue 14 §4). Always last.
CONTRACT_DERIVED = ("address_area",)
CONTRACT_VALUES = (*CONTRACT_COLUMNS[1:], *CONTRACT_OPTIONAL, *CONTRACT_DERIVED)
LIMITS = {"holder_name": 100, "holder_name_kana": 100, "address": 300, "meter_number": 30}

REQUIRED = "必須です"
NOT_INT = "0以上の整数で入力してください"
# The database's INTEGER (PostgreSQL int4): a larger reading or amount could not be stored.
INT_MAX = 2_147_483_647
TOO_LARGE = f"{INT_MAX}以下の整数で入力してください"
NOT_DATE = "日付は YYYY-MM-DD の形式で入力してください"
NOT_MONTH = "請求月は YYYY-MM の形式で入力してください"


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


# A check reports each problem it finds as (column, message) on the row being checked.
Report = Callable[[str, str], None]


def _check_text(column: str, value: str, bad: Report) -> None:
    """A contract's text field is required and at most LIMITS[column] characters."""
    if not value:
        bad(column, REQUIRED)
    elif len(value) > LIMITS[column]:
        bad(column, f"{LIMITS[column]}文字以内で入力してください")


def _check_kana(kana: str, bad: Report) -> None:
    """The holder's kana name, when given, is katakana only."""
    if kana and not is_katakana(kana):
        bad("holder_name_kana", f"カナ氏名はカタカナで入力してください: {shown(kana)}")


def _check_phone(raw: str, bad: Report) -> str:
    """The phone number's digits: required, 10 or 11 of them, starting with 0."""
    phone = digits_only(raw)
    if not phone:
        bad("phone", REQUIRED)
    elif not (phone.isdigit() and phone.isascii() and 10 <= len(phone) <= 11 and phone[0] == "0"):
        bad("phone", f"電話番号は0から始まる10桁または11桁の数字で入力してください: {shown(phone)}")
    return phone


def _check_diameter(raw: str, bad: Report) -> int | None:
    """The meter's diameter: required, a whole number of millimetres from 1 to 999."""
    size = _int(raw)
    if not raw:
        bad("meter_diameter_mm", REQUIRED)
    elif size is None or not 1 <= size <= 999:
        bad("meter_diameter_mm", f"口径(mm)は1から999の整数で入力してください: {shown(raw)}")
    return size


def _check_contract(record: Sequence[str], line: int, digits: int, seen: dict[str, int],
                    bad: Report) -> tuple[str | None, tuple[Any, ...]]:
    """Check one contract row's fields (each rule reports its own problem) and that its
    customer number has not appeared on an earlier line: (number, values in CONTRACT_VALUES order)."""
    raw_number, name, kana, phone, address, meter, diameter = (v.strip() for v in record)
    number = _customer_number(raw_number, digits)
    if number is None:
        bad("customer_number", _number_problem(raw_number, digits))
    name = squash_spaces(name)
    kana = katakana_name(kana)
    address = squash_spaces(address)
    meter = _nfkc(meter).strip()
    for column, value in (("holder_name", name), ("holder_name_kana", kana), ("address", address),
                          ("meter_number", meter)):
        _check_text(column, value, bad)
    _check_kana(kana, bad)
    phone = _check_phone(phone, bad)
    size = _check_diameter(diameter, bad)
    if number is not None:
        first = seen.setdefault(number, line)
        if first != line:
            bad("customer_number", f"お客様番号 {number} が {first} 行目と重複しています")
    return number, (name, kana, phone, address, meter, size)


def _check_cycle(raw: str, bad: Report) -> str | None:
    """The optional billing cycle: monthly, bimonthly or empty (the city's cycle)."""
    value = _nfkc(raw).lower()
    if value and value not in BILLING_CYCLES:
        bad("billing_cycle", f"検針・請求の周期は monthly (毎月) か bimonthly (2か月ごと) で入力してください: {shown(raw)}")
    return value or None


def _check_persons(raw: str, bad: Report) -> int | None:
    """The optional number of persons in the household: 1 to PERSONS_MAX, or empty (not known)."""
    if not raw:
        return None
    persons = _int(raw)
    if persons is None or not 1 <= persons <= PERSONS_MAX:
        bad("persons", f"世帯人数は1から{PERSONS_MAX}の整数で入力してください(不明の場合は空欄): {shown(raw)}")
    return persons


class ContractRows:
    """Validates a contracts file chunk by chunk; remembers the customer numbers seen so far.

    The numbers (one small dict entry a contract) are all it keeps between chunks: a
    repeated number is an error naming the earlier line.
    """

    def __init__(self, index: Mapping[str, int], digits: int):
        self.pick = itemgetter(*(index[name] for name in CONTRACT_COLUMNS))
        self.cycle_at = index.get("billing_cycle")
        self.persons_at = index.get("persons")
        self.width = len(index)
        self.digits = digits
        self.seen: dict[str, int] = {}

    def check(self, lines: Sequence[int], records: Sequence[list[str]],
              problems: list[Problem]) -> list[tuple[Any, ...]]:
        """The clean rows of ``records`` (on ``lines``) as ``(customer_number, *values in CONTRACT_VALUES order)``."""
        clean: list[tuple[Any, ...]] = []
        for line, record in zip(lines, records, strict=True):
            if not _width_ok(record, self.width, line, problems):
                continue
            before = len(problems)

            def bad(column: str, message: str) -> None:
                problems.append(Problem(line, column, message))  # noqa: B023 - used in this iteration only

            number, values = _check_contract(self.pick(record), line, self.digits, self.seen, bad)
            cycle = _check_cycle(record[self.cycle_at].strip(), bad) if self.cycle_at is not None else None
            persons = _check_persons(record[self.persons_at].strip(), bad) if self.persons_at is not None else None
            if len(problems) == before:
                clean.append((number, *values, cycle, persons, area_of(values[3])))
        return clean
