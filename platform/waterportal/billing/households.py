"""同じ人数の世帯の平均 (issue 14 §2): the city's median usage by household size, per billing month.

The bills import's after-step (:func:`refresh_medians`) recomputes the months it touched
(a bill inserted or changed), set-wise: one DELETE and one INSERT ... SELECT for all those
months, grouped by month, billing cycle (a two-month bill is compared with two-month bills
only: :mod:`waterportal.billing.cycles`) and household size (1, 2, 3, 4, 5 or more persons,
the contracts import's ``persons`` column). Never a statement per household.

PostgreSQL takes the median with ``percentile_cont(0.5)``; SQLite has no percentile, so its
statement counts each group's usages per value, numbers them with running ``SUM()`` windows
and averages the middle one (odd count) or two (even count): the same numbers, tested on both.

A member sees the city's median only where at least ``[insight] comparison_min_households``
households (never fewer than 20: privacy) make it; otherwise the national table
(:data:`NATIONAL_M3`, 東京都水道局's published monthly averages), labelled as such.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Float, String, UniqueConstraint, bindparam, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.billing.cycles import contract_cycle
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import TenantScoped

# Household sizes 5 and more share one group (few households, similar use).
TOP_GROUP = 5
# 東京都水道局: average use per month of a household of 1-4 persons (m³). A two-month bill
# compares with twice these; 5 or more persons use the 4-person figure (the table stops there).
NATIONAL_M3 = {1: 8.1, 2: 14.9, 3: 19.9, 4: 23.1}


class HouseholdMedian(TenantScoped, db.Model):
    """The median usage of one billing month's bills of one cycle and household size."""

    __tablename__ = "household_medians"
    __table_args__ = (
        UniqueConstraint("tenant_id", "billing_month", "cycle", "persons"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_month: Mapped[str] = mapped_column(String(7))
    cycle: Mapped[str] = mapped_column(String(10))  # "monthly" / "bimonthly"
    persons: Mapped[int]  # 1-4, or TOP_GROUP for 5 or more
    households: Mapped[int]  # how many bills make the median
    median_m3: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[dt.datetime]


def person_group(persons: int) -> int:
    """The comparison group of a household size: 1, 2, 3, 4 or TOP_GROUP (5 or more)."""
    return min(persons, TOP_GROUP)


# The bills of one import's months whose contract has a size, each with its group: month,
# cycle (the contract's, else the city's) and size group (5 and more: TOP_GROUP). The SQL is
# built from these constants only; every value is a bound parameter (hence the S608 noqa).
_GROUPED = (
    "SELECT b.billing_month AS bmonth, coalesce(c.billing_cycle, :city_cycle) AS bcycle, "  # noqa: S608
    f"CASE WHEN c.persons > {TOP_GROUP} THEN {TOP_GROUP} ELSE c.persons END AS grp, b.usage_m3 AS used "
    "FROM bills b JOIN contracts c ON c.tenant_id = b.tenant_id AND c.id = b.contract_id "
    "WHERE b.tenant_id = :tenant_id AND b.billing_month IN :months AND c.persons IS NOT NULL"
)
_INSERT = "INSERT INTO household_medians (tenant_id, billing_month, cycle, persons, households, median_m3, computed_at) "

MEDIAN_SQL = {
    "percentile": (
        f"{_INSERT}SELECT :tenant_id, bmonth, bcycle, grp, count(*), "  # noqa: S608
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY used), :now FROM ({_GROUPED}) g GROUP BY bmonth, bcycle, grp"
    ),
    # SQLite has no percentile: the group's usages are counted per value (a few hundred rows
    # per group, whatever the number of households), a running SUM() window numbers them, and
    # the middle ranks (n + 1) / 2 and (n + 2) / 2 (integer division: one rank when n is odd,
    # two when even) are the smallest values whose running count reaches them; their mean is
    # the median. Measured 2x quicker than ROW_NUMBER() over every household's row.
    "window": (
        f"{_INSERT}SELECT :tenant_id, bmonth, bcycle, grp, max(n), "  # noqa: S608
        "(min(CASE WHEN upto >= (n + 1) / 2 THEN used END) + min(CASE WHEN upto >= (n + 2) / 2 THEN used END)) / 2.0, "
        ":now FROM (SELECT bmonth, bcycle, grp, used, "
        "SUM(households) OVER (PARTITION BY bmonth, bcycle, grp ORDER BY used) AS upto, "
        # An integer on PostgreSQL too (its SUM is numeric): (n + 1) / 2 must divide as integers.
        "CAST(SUM(households) OVER (PARTITION BY bmonth, bcycle, grp) AS INTEGER) AS n FROM ("
        f"SELECT bmonth, bcycle, grp, used, count(*) AS households FROM ({_GROUPED}) g "
        "GROUP BY bmonth, bcycle, grp, used) counted) ranked GROUP BY bmonth, bcycle, grp"
    ),
}


def _statement(sql: str):
    # Typed stamps: SQLAlchemy then writes SQLite's DateTime text exactly as the ORM and the
    # import's writer store it (the driver's own adapter would drop ".000000").
    params = [bindparam("months", expanding=True)]
    params += [bindparam(name, type_=DateTime()) for name in ("stamp", "now") if f":{name}" in sql]
    return text(sql).bindparams(*params)


def touched_months(conn: Connection, tenant_id: int, months: Sequence[str], stamp: dt.datetime) -> list[str]:
    """Of ``months`` (an import file's), those with a bill the import wrote (its ``updated_at``
    stamp): unchanged months keep their medians. One statement, by the (tenant, month) index."""
    if not months:
        return []
    found = conn.execute(_statement(
        "SELECT DISTINCT billing_month FROM bills WHERE tenant_id = :tenant_id AND billing_month IN :months "
        "AND updated_at = :stamp"), {"tenant_id": tenant_id, "months": sorted(months), "stamp": stamp})
    return sorted(row[0] for row in found)


def refresh_medians(tenant: TenantContext, months: Sequence[str], now: dt.datetime, *,
                    conn: Connection | None = None, method: str | None = None) -> int:
    """Recompute the city's medians of ``months``: two statements whatever the number of
    households; returns the number of groups stored. Runs in the caller's transaction.

    ``method`` is ``"percentile"`` (PostgreSQL's default) or ``"window"`` (SQLite's, which
    PostgreSQL runs as well: the tests compare the two)."""
    if not months:
        return 0
    conn = conn or db.session.connection()
    method = method or ("percentile" if conn.dialect.name == "postgresql" else "window")
    params = {"tenant_id": tenant.id, "months": sorted(set(months))}
    conn.execute(_statement("DELETE FROM household_medians WHERE tenant_id = :tenant_id AND billing_month IN :months"),
                 params)
    done = conn.execute(_statement(MEDIAN_SQL[method]),
                        {**params, "city_cycle": tenant.settings["billing"]["cycle"], "now": now})
    return done.rowcount


def comparison_enabled(settings: Mapping[str, Any]) -> bool:
    """Whether the city computes and shows 同じ人数の世帯の平均 (``[insight] comparison_enabled``)."""
    return bool(settings["insight"]["comparison_enabled"])


@dataclass(frozen=True)
class Comparison:
    """What the pages show for one contract's bill: the household's use against its group's."""

    persons: int  # the contract's household size
    group: int  # its comparison group (1-4, TOP_GROUP)
    usage_m3: int  # this household's use in the bill
    typical_m3: float  # the city's median, or the national figure
    households: int | None  # how many households make the city's median; None: national
    months: int  # 1 monthly, 2 bimonthly (the national figure is per month: x months)
    billing_month: str

    @property
    def national(self) -> bool:
        return self.households is None

    @property
    def typical_text(self) -> str:
        """「14」 or 「14.5」: a median of an even count can end in .5; national figures have one decimal."""
        value = round(self.typical_m3, 1)
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"

    @property
    def scale(self) -> float:
        """The larger of the two values (the chart's full width), at least 1."""
        return max(float(self.usage_m3), self.typical_m3, 1.0)

    def percent(self, value: float) -> int:
        """A value's bar length in percent of :attr:`scale` (a zero use still shows a sliver)."""
        return max(1, round(100 * value / self.scale))


def comparison_for(tenant: TenantContext, contract: Contract, billing_month: str, usage_m3: int) -> Comparison | None:
    """The comparison of ``contract``'s bill of ``billing_month``, or None (no household size
    known, or the city does not compare). One statement: the city's median of the group, used
    only when at least ``comparison_min_households`` households make it."""
    settings = tenant.settings
    if contract.persons is None or not comparison_enabled(settings):
        return None
    cycle = contract_cycle(settings, contract)
    group = person_group(contract.persons)
    found = db.session.execute(
        select(HouseholdMedian.median_m3, HouseholdMedian.households).where(
            HouseholdMedian.tenant_id == tenant.id, HouseholdMedian.billing_month == billing_month,
            HouseholdMedian.cycle == cycle, HouseholdMedian.persons == group)
    ).first()
    months = 2 if cycle == "bimonthly" else 1
    if found is not None and found.households >= settings["insight"]["comparison_min_households"]:
        return Comparison(contract.persons, group, usage_m3, found.median_m3, found.households, months, billing_month)
    national = NATIONAL_M3[min(group, max(NATIONAL_M3))] * months
    return Comparison(contract.persons, group, usage_m3, national, None, months, billing_month)
