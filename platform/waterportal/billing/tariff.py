"""料金シミュレーション: a city's charge for a 口径, a usage and a period, from ``[tariff]``.

The tariff is the city's ``tenant.toml`` ``[tariff]`` section (validated by
``tenancy.schemas.TariffSchema``): a basic charge per 口径 for water and sewer, volume
tiers ``(over, upto]`` m³ with a price per m³ each, the tax rate, how the tax-inclusive
charge is rounded, and how a two-month period is charged. Water and sewer are charged
separately, each rounded once after tax, as the bills show them (``water_charge``,
``sewer_charge``; ``total`` is their sum). The demo generator bills with this module,
so the simulator reproduces every demo bill.

Bimonthly rules (``bimonthly``):

- ``double``: two months' basic charge and every tier twice as wide (``upto`` × 2).
- ``split``: the usage is split into two months (the odd m³ goes to the first), each
  month is charged on the monthly tiers, basic charge twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

PERIODS = {1: _l("1か月"), 2: _l("2か月")}
# core.invoice_numbers.ROUNDINGS (the PDFs' Japanese) in the page's language.
ROUNDING_WORDS = {"floor": _l("切り捨て"), "half_up": _l("四捨五入"), "ceil": _l("切り上げ")}


@dataclass(frozen=True)
class Line:
    """One row of the breakdown: what, how (``11〜20 m³ 5 m³ × 200円``), yen."""

    label: str
    detail: str
    yen: int


@dataclass(frozen=True)
class Charge:
    """Water or sewer: the rows before tax, the tax added and the rounded charge."""

    name: str
    lines: tuple[Line, ...]
    before_tax: int
    tax: int
    amount: int  # tax included, rounded: the bill's water_charge / sewer_charge


@dataclass(frozen=True)
class Estimate:
    diameter_mm: int
    usage_m3: int
    months: int
    charges: tuple[Charge, ...]

    @property
    def water(self) -> int:
        return self.charges[0].amount

    @property
    def sewer(self) -> int:
        return self.charges[1].amount if len(self.charges) > 1 else 0

    @property
    def total(self) -> int:
        return sum(charge.amount for charge in self.charges)


def diameters(tariff: Mapping[str, Any]) -> list[int]:
    """The 口径 (mm) the tariff prices, smallest first."""
    return sorted(int(row["diameter_mm"]) for row in tariff["basic"])


def _round(numerator: int, denominator: int, rounding: str, unit: int) -> int:
    """``numerator / denominator`` rounded to a multiple of ``unit`` yen by ``rounding``."""
    scaled = denominator * unit
    if rounding == "floor":
        return numerator // scaled * unit
    if rounding == "ceil":
        return -(-numerator // scaled) * unit
    if rounding == "half_up":
        return (2 * numerator + scaled) // (2 * scaled) * unit
    raise ValueError(f"unknown rounding {rounding!r}")


def _tier_volumes(tiers: list[Mapping[str, Any]], usage: int, width: int) -> list[int]:
    """m³ of ``usage`` falling in each tier, the tiers' bounds multiplied by ``width``."""
    volumes = []
    for tier in tiers:
        lower = tier["over"] * width
        upper = usage if tier.get("upto") is None else min(usage, tier["upto"] * width)
        volumes.append(max(0, upper - lower))
    return volumes


def _tier_label(tier: Mapping[str, Any], width: int) -> str:
    lower, upper = tier["over"] * width, tier.get("upto")
    if upper is None:
        return gettext("%(lower)sm³以上", lower=lower + 1)
    return f"{lower + 1}〜{upper * width}m³"


def _charge(name: str, basic: int, tiers: list[Mapping[str, Any]], usage: int, months: int,
            tariff: Mapping[str, Any]) -> Charge:
    if months == 2 and tariff["bimonthly"] == "split":
        first = usage - usage // 2
        volumes = [a + b for a, b in zip(_tier_volumes(tiers, first, 1), _tier_volumes(tiers, usage // 2, 1),
                                         strict=True)]
        width = 1
    else:
        volumes, width = _tier_volumes(tiers, usage, months), months
    # The texts in the page's language (the simulator is a page: gettext at call time).
    yen = gettext("%(amount)s円", amount=f"{basic:,}")
    lines = [Line(gettext("基本料金"), gettext("%(amount)s × %(months)sか月", amount=yen, months=months) if months > 1 else yen,
                  basic * months)]
    for tier, volume in zip(tiers, volumes, strict=True):
        if volume:
            label = _tier_label(tier, width) + (gettext("(各月)") if width == 1 and months == 2 else "")
            lines.append(Line(gettext("従量料金 %(tier)s", tier=label),
                              f"{volume}m³ × " + gettext("%(amount)s円", amount=f"{tier['price']:,}"), volume * tier["price"]))
    before = sum(line.yen for line in lines)
    rate = tariff["tax_rate"]
    amount = _round(before * (100 + rate), 100, tariff["rounding"], tariff["rounding_unit"])
    return Charge(name, tuple(lines), before, amount - before, amount)


def estimate(tariff: Mapping[str, Any], diameter_mm: int, usage_m3: int, months: int = 1,
             sewer: bool = True) -> Estimate:
    """The charge of ``usage_m3`` over ``months`` (1 or 2) for a meter of ``diameter_mm``.

    Raises ``ValueError`` for a 口径 the tariff does not price or a period other than 1 or 2.
    """
    if months not in PERIODS:
        raise ValueError(f"months must be 1 or 2, not {months}")
    if usage_m3 < 0:
        raise ValueError("usage must not be negative")
    row = next((r for r in tariff["basic"] if int(r["diameter_mm"]) == diameter_mm), None)
    if row is None:
        raise ValueError(f"no basic charge for {diameter_mm} mm")
    charges = [_charge(gettext("水道料金"), row["water"], tariff["water_tiers"], usage_m3, months, tariff)]
    if sewer:
        charges.append(_charge(gettext("下水道使用料"), row["sewer"], tariff["sewer_tiers"], usage_m3, months, tariff))
    return Estimate(diameter_mm, usage_m3, months, tuple(charges))

