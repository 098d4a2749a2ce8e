"""Demo data: the billing-system exports (contracts.csv, bills.csv) a city would send us.

Everything is derived from seeded random generators keyed by city, household and month,
so the same seed and day give byte-identical files, the fixed demo contracts
(:data:`~waterportal.demo.cities.PROFILES`) always come first, and re-running in
a later month only adds the new months (meter readings accumulate from a fixed epoch,
so a bill never changes once generated, apart from its payment appearing).
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jaconv

from waterportal.billing.slip import AMOUNT_MAX, make_barcode
from waterportal.billing.tariff import estimate
from waterportal.core.time import closure_days, is_business_day
from waterportal.demo.cities import GIVEN_NAMES, SURNAMES, CityProfile, Household
from waterportal.demo.documents import issuer, write_documents

CONTRACT_COLUMNS = (
    "customer_number", "holder_name", "holder_name_kana", "phone", "address", "meter_number", "meter_diameter_mm",
    "billing_cycle", "persons",
)
BILL_COLUMNS = (
    "customer_number", "billing_month", "period_start", "period_end", "reading_date", "previous_reading",
    "current_reading", "usage_m3", "water_charge", "sewer_charge", "tax", "total", "due_date", "paid_on",
    "payment_method", "transfer_date", "transfer_result", "message", "payment_barcode",
)
# 請求書発行企業コード of the demo cities' convenience-store barcodes (fictitious: the real
# ones are GS1 company prefixes the cities hold).
SLIP_COMPANY = {"nayoro": "912345", "kanazawa": "954321"}
# A bill whose usage is this many times the one before (and at least LEAK_MIN m³) gets the 通信欄 below.
LEAK_RATIO, LEAK_MIN = 1.6, 15
LEAK_MESSAGE = "前回より使用水量が増えています。漏水の可能性がありますので、点検をお勧めします。"
DEFAULT_SEED = "waterportal-demo"
# Meter readings accumulate from here, so a month's reading never depends on the window.
EPOCH = (2018, 1)
# Average m³ per month by persons in the household (0 = a shop).
BASE_M3 = {0: 40, 1: 7, 2: 13, 3: 18, 4: 23, 5: 27}


@dataclass(frozen=True)
class CityExport:
    """One city's generated rows (strings, in column order) ready to write as CSV."""

    slug: str
    encoding: str
    households: tuple[Household, ...]
    contracts: list[dict[str, str]]
    bills: list[dict[str, str]]
    issuer: str = ""  # who signs the city's documents (demo_documents)
    periods_per_year: int = 12


def _rng(*parts: object) -> random.Random:
    """A generator seeded by ``parts`` (string seeds are stable across processes and runs)."""
    return random.Random(":".join(str(part) for part in parts))  # noqa: S311 - demo data, not secrets


def month_index(year: int, month: int) -> int:
    """Months since year 0, so month arithmetic is integer arithmetic."""
    return year * 12 + month - 1


def from_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`month_index`."""
    return index // 12, index % 12 + 1


def included_tax(total: int) -> int:
    """The consumption tax contained in a tax-inclusive ``total``, rounded down once per bill
    (both demo cities' ``[invoice] rounding = "floor"``, which the import checks)."""
    return total * 10 // 110


def make_households(profile: CityProfile, count: int, digits: int, seed: str = DEFAULT_SEED) -> list[Household]:
    """The city's ``count`` households: the fixed demo contracts first, then random ones."""
    fixed = [h for h in profile.fixed if len(h.customer_number) == digits]
    if len(fixed) != len(profile.fixed):
        raise ValueError(f"{profile.slug}: fixed demo contracts must have {digits} digits")
    result = fixed[:count]
    for index in range(len(result), count):
        result.append(_random_household(profile, index, digits, seed))
    return result


def _random_household(profile: CityProfile, index: int, digits: int, seed: str) -> Household:
    rng = _rng(seed, profile.slug, "household", index)
    surname, surname_kana = rng.choice(SURNAMES + profile.surnames)
    given, given_kana = rng.choice(GIVEN_NAMES)
    address, has_sewer = profile.address(rng)
    shop = rng.random() < 0.04
    persons = 0 if shop else rng.choices((1, 2, 3, 4, 5), weights=(28, 33, 18, 15, 6))[0]
    if shop:
        diameter = rng.choice((20, 25))
        name, kana = f"{surname}商店", f"{surname_kana} ショウテン"
    else:
        diameter = 20 if persons >= 4 and rng.random() < 0.5 else 13
        name, kana = f"{surname} {given}", f"{surname_kana} {given_kana}"
    return Household(
        customer_number=profile.customer_number(index, rng, digits),
        holder_name=name,
        holder_name_kana=kana,
        phone=profile.phone(rng),
        address=address,
        meter_number=profile.meter_number(index, rng),
        meter_diameter_mm=diameter,
        persons=persons,
        reading_day=5 + 3 * rng.randrange(7),
        has_sewer=has_sewer,
        vacant=not shop and rng.random() < 0.02,
        usage_factor=round(rng.uniform(0.75, 1.3), 3),
        reading_group=index % 2,
        autopay=rng.random() < 0.7,
        delinquent=rng.random() < 0.03,
    )


def monthly_usage(profile: CityProfile, household: Household, year: int, month: int, seed: str) -> int:
    """m³ used in one calendar month: household size x season (peak in August) x noise."""
    rng = _rng(seed, profile.slug, "usage", household.customer_number, f"{year:04d}-{month:02d}")
    if household.vacant:
        return rng.choice((0, 0, 0, 1))
    season = 1 + profile.season_amplitude * math.cos(2 * math.pi * (month - 8) / 12)
    return max(0, round(BASE_M3[household.persons] * household.usage_factor * season * rng.gauss(1.0, 0.12)))


def _reading_date(household: Household, year: int, month: int, closure: list[tuple[int, int]]) -> dt.date:
    # Meter readers work on business days: a reading day on a weekend or holiday moves on.
    day = dt.date(year, month, household.reading_day)
    while not is_business_day(day, closure):
        day += dt.timedelta(days=1)
    return day


def _due_date(year: int, month: int, closure: list[tuple[int, int]]) -> dt.date:
    # 納期限: end of the following month, moved to the next business day (口座振替日 too).
    y, m = from_index(month_index(year, month) + 1)
    day = dt.date(y, m, calendar.monthrange(y, m)[1])
    while not is_business_day(day, closure):
        day += dt.timedelta(days=1)
    return day


def _paid_on(
    household: Household, reading: dt.date, due: dt.date, today: dt.date, rng: random.Random
) -> dt.date | None:
    """Payment date as the export of ``today`` knows it (None while unpaid)."""
    if household.delinquent and due >= today - dt.timedelta(days=75):
        return None  # 滞納: the last couple of bills are still open
    if household.autopay:
        paid = due
    elif rng.random() < 0.05:
        paid = due + dt.timedelta(days=rng.randint(3, 25))  # paid late at the counter
    else:
        paid = reading + dt.timedelta(days=rng.randint(7, max(7, (due - reading).days)))
    # The export is nightly: a payment made today appears tomorrow.
    return paid if paid < today else None


def billing_months(household: Household, cycle: str, months: int, today: dt.date) -> list[int]:
    """Month indexes billed for this household, oldest first, ending before ``today``'s month."""
    last = month_index(today.year, today.month) - 1
    first = last - months + 1
    if cycle == "monthly":
        return list(range(first, last + 1))
    # Bimonthly: group 0 is read in odd months (Jan, Mar, ...), whose month_index is even.
    return [m for m in range(first, last + 1) if m % 2 == household.reading_group]


def household_bills(
    profile: CityProfile, household: Household, settings: Mapping[str, Any], months: int, today: dt.date, seed: str
) -> list[dict[str, str]]:
    """Every bill of one household in the window, as CSV rows."""
    cycle = household_cycle(profile, household, settings)
    step = 2 if cycle == "bimonthly" else 1
    closure = closure_days(list(settings["calendar"]["closure_days"]))
    billed = billing_months(household, cycle, months, today)
    start = min(month_index(*EPOCH), billed[0] - step)
    rng = _rng(seed, profile.slug, "meter", household.customer_number)
    reading = rng.randint(0, 1500)  # the meter's reading at the start of the epoch
    cumulative: dict[int, int] = {}
    for index in range(start, billed[-1] + 1):
        reading += monthly_usage(profile, household, *from_index(index), seed)
        cumulative[index] = reading
    cumulative[billed[-1]] += household.leak_m3  # the demo leak: the newest bill jumps (charges follow)
    rows = []
    for index in billed:
        year, month = from_index(index)
        previous, current = cumulative[index - step], cumulative[index]
        usage = current - previous
        read_on = _reading_date(household, year, month, closure)
        previous_read_on = _reading_date(household, *from_index(index - step), closure)
        due = _due_date(year, month, closure)
        # The city's [tariff], as the 料金シミュレーション computes it (billing/tariff.py).
        charge = estimate(settings["tariff"], household.meter_diameter_mm, usage, step, sewer=household.has_sewer)
        water, sewer, total = charge.water, charge.sewer, charge.total
        pay_rng = _rng(seed, profile.slug, "pay", household.customer_number, index)
        paid = _paid_on(household, read_on, due, today, pay_rng)
        rows.append({
            "customer_number": household.customer_number,
            "billing_month": f"{year:04d}-{month:02d}",
            "period_start": (previous_read_on + dt.timedelta(days=1)).isoformat(),
            "period_end": read_on.isoformat(),
            "reading_date": read_on.isoformat(),
            "previous_reading": str(previous),
            "current_reading": str(current),
            "usage_m3": str(usage),
            "water_charge": str(water),
            "sewer_charge": str(sewer),
            "tax": str(included_tax(total)),
            "total": str(total),
            "due_date": due.isoformat(),
            "paid_on": paid.isoformat() if paid else "",
            **_payment(household, due, paid, today),
            "payment_barcode": "",
            "message": LEAK_MESSAGE if rows and _leaks(usage, int(rows[-1]["usage_m3"])) else "",
        })
    _demo_examples(household, rows, today)
    for row in rows:
        if not row["paid_on"] and int(row["total"]) <= AMOUNT_MAX:  # the 電子納付書 of every open bill
            row["payment_barcode"] = make_barcode(
                SLIP_COMPANY.get(profile.slug, "900000"), f"{household.customer_number}{row['billing_month'][:4]}"
                f"{row['billing_month'][5:]}", dt.date.fromisoformat(row["due_date"]), int(row["total"]))
    return rows


def _leaks(usage: int, before: int) -> bool:
    return usage >= LEAK_MIN and usage >= before * LEAK_RATIO


def _payment(household: Household, due: dt.date, paid: dt.date | None, today: dt.date) -> dict[str, str]:
    """口座振替 on the due date (its result once the day has passed: 0 振替済, 1 資金不足 for a
    household in arrears) or a 納付書 paid at a counter."""
    if not household.autopay:
        return {"payment_method": "納付書", "transfer_date": "", "transfer_result": ""}
    result = "" if due >= today else ("0" if paid else "1")
    return {"payment_method": "口座振替", "transfer_date": due.isoformat(), "transfer_result": result}


def _demo_examples(household: Household, rows: list[dict[str, str]], today: dt.date) -> None:
    """The fixed demo contracts' examples: the newest past-due 口座振替 failed (資金不足, open)
    and the newest bill's 通信欄."""
    if household.failed_transfer:
        past_due = [row for row in rows if dt.date.fromisoformat(row["due_date"]) < today]
        if past_due:
            past_due[-1].update(payment_method="口座振替", transfer_date=past_due[-1]["due_date"],
                                transfer_result="1", paid_on="")
    if household.message and rows:
        rows[-1]["message"] = household.message


def household_cycle(profile: CityProfile, household: Household, settings: Mapping[str, Any]) -> str:
    """The household's billing cycle: bimonthly in the profile's bimonthly areas, else the city's."""
    if any(area in household.address for area in profile.bimonthly_areas):
        return "bimonthly"
    return settings["billing"]["cycle"]


def contract_row(profile: CityProfile, household: Household) -> dict[str, str]:
    """The contracts.csv row: names with a full-width space, kana half-width where the city's system does."""
    kana = household.holder_name_kana
    if profile.halfwidth_kana:
        kana = jaconv.z2h(kana, kana=True, ascii=False, digit=False)
    return {
        "customer_number": household.customer_number,
        "holder_name": household.holder_name.replace(" ", "\u3000"),
        "holder_name_kana": kana,
        "phone": household.phone,
        "address": household.address,
        "meter_number": household.meter_number,
        "meter_diameter_mm": str(household.meter_diameter_mm),
        # Only where it differs from the city's (Nayoro's suburbs): empty means the city's cycle.
        "billing_cycle": "bimonthly" if any(area in household.address for area in profile.bimonthly_areas) else "",
        # 世帯人数 (同じ人数の世帯の平均): a shop's (0) is not a household size.
        "persons": str(household.persons) if household.persons else "",
    }


def generate_city(
    profile: CityProfile,
    settings: Mapping[str, Any],
    contracts: int,
    months: int,
    today: dt.date,
    seed: str = DEFAULT_SEED,
) -> CityExport:
    """Generate one city's export for the day ``today`` (the city's local date)."""
    digits = settings["registration"]["customer_number_digits"]
    households = make_households(profile, contracts, digits, seed)
    bills = [row for h in households for row in household_bills(profile, h, settings, months, today, seed)]
    contract_rows = [contract_row(profile, h) for h in households]
    per_year = 6 if settings["billing"]["cycle"] == "bimonthly" else 12
    return CityExport(profile.slug, profile.encoding, tuple(households), contract_rows, bills,
                      issuer(settings), per_year)


def write_city(outdir: Path, export: CityExport) -> tuple[Path, Path]:
    """Write ``outdir/<slug>/contracts.csv`` and ``bills.csv`` in the city's encoding.

    Also ``outdir/<slug>/documents/`` (for ``flask import documents``): a notice PDF per
    fixed demo contract (:mod:`waterportal.demo.documents`).
    """
    folder = Path(outdir) / export.slug
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, columns, rows in (
        ("contracts.csv", CONTRACT_COLUMNS, export.contracts),
        ("bills.csv", BILL_COLUMNS, export.bills),
    ):
        path = folder / name
        # Shift_JIS exports come from Windows systems with CRLF; the UTF-8 one uses LF.
        terminator = "\r\n" if export.encoding == "cp932" else "\n"
        with path.open("w", encoding=export.encoding, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator=terminator)
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    write_documents(folder, export)
    return paths[0], paths[1]


def fixed_contracts(profile: CityProfile) -> list[Household]:
    """The demo contracts a tester registers with, as typed: digits only, full-width kana, no spaces."""
    return [
        replace(h, phone=h.phone.replace("-", ""), holder_name_kana=h.holder_name_kana.replace(" ", ""))
        for h in profile.fixed
    ]
