"""漏水の可能性 (issue 14 §1): a new bill whose usage jumped is flagged once, at import time.

The bills import's after-step (:func:`flag_leaks`) runs one ``INSERT ... SELECT`` over the
file's *new* bills (ids above the bill-mail job's watermark: an updated or unchanged bill keeps
its id, so a correction never flags), never a statement per bill or contract. A bill is
flagged when, with the city's ``[insight]`` thresholds (tenant.toml, console 設定 → 使用量のお知らせ):

- it is the newest bill of its contract (a backfilled older month is history, not news);
- the contract has a bill of the same period last year (same month, one year earlier: a
  two-month contract's bills fall on the same months each year, so it compares two months
  with two months, :mod:`waterportal.billing.cycles`) with some use: no such bill, or one
  with 0 m³ (a vacant house), is no history and flags nothing;
- its usage is at least ``leak_ratio`` times last year's *and* at least ``leak_min_m3`` more
  (both: a ratio alone would flag 2 → 4 m³, a difference alone a large family's normal month);
- its usage is above every one of the contract's ``leak_usual_bills`` bills before it (its
  usual range: a household that always uses more in winter is not flagged for winter).

``bill_alerts`` has one row per (bill, kind): a bill is flagged at most once, whatever the
number of imports. The mail (one per flagged bill to each linked member who wants it) is a
mail job the outbox worker expands (:mod:`waterportal.billing.leak_mail`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.models import TenantScoped, tenant_fk

LEAK = "leak"


class BillAlert(TenantScoped, db.Model):
    """One bill flagged by an insight check (``kind`` ``leak``), with the figures it was judged on."""

    __tablename__ = "bill_alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "bill_id", "kind"),  # never twice for the same bill
        tenant_fk(["bill_id"], "bills", ondelete="CASCADE"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    bill_id: Mapped[int] = mapped_column(BIG_ID)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    kind: Mapped[str] = mapped_column(String(20))
    usage_m3: Mapped[int]  # the bill's
    last_year_m3: Mapped[int]  # the same period last year's
    usual_m3: Mapped[int]  # the largest of the bills before it (leak_usual_bills of them)
    created_at: Mapped[dt.datetime]
    # When the worker queued its mails (billing.leak_mail); NULL: nobody mailed (yet).
    mailed_at: Mapped[dt.datetime | None]


# A contract's alerts (the pages read the alert of one bill through the unique key above).
Index("ix_bill_alerts_tenant_contract", BillAlert.tenant_id, BillAlert.contract_id)

# Each candidate: a new bill that is its contract's newest, joined to the bill of the same
# month one year earlier ("2026-10" -> "2025-10", in SQL both databases speak), with its usual
# range: the largest use of the contract's :usual bills before it (in the order of the bills'
# unique key (tenant_id, contract_id, billing_month)). Then the thresholds, and never twice.
FLAG_SQL = (
    "INSERT INTO bill_alerts (tenant_id, bill_id, contract_id, kind, usage_m3, last_year_m3, usual_m3, created_at) "
    "SELECT :tenant_id, c.bill_id, c.contract_id, 'leak', c.used, c.last_year, c.usual, :now FROM ("
    "SELECT b.id AS bill_id, b.contract_id AS contract_id, b.usage_m3 AS used, ly.usage_m3 AS last_year, "
    "(SELECT max(prev.usage_m3) FROM (SELECT p.usage_m3 FROM bills p WHERE p.tenant_id = b.tenant_id "
    "AND p.contract_id = b.contract_id AND p.billing_month < b.billing_month "
    "ORDER BY p.billing_month DESC LIMIT :usual) prev) AS usual "
    "FROM bills b JOIN bills ly ON ly.tenant_id = b.tenant_id AND ly.contract_id = b.contract_id "
    "AND ly.billing_month = CAST(CAST(substr(b.billing_month, 1, 4) AS INTEGER) - 1 AS VARCHAR(4)) "
    "|| substr(b.billing_month, 5, 3) "
    "WHERE b.tenant_id = :tenant_id AND b.id > :after AND ly.usage_m3 > 0 "
    "AND NOT EXISTS (SELECT 1 FROM bills n WHERE n.tenant_id = b.tenant_id AND n.contract_id = b.contract_id "
    "AND n.billing_month > b.billing_month)"
    ") c WHERE c.used >= c.last_year * :ratio AND c.used - c.last_year >= :min_m3 AND c.used > c.usual "
    "AND NOT EXISTS (SELECT 1 FROM bill_alerts a WHERE a.tenant_id = :tenant_id AND a.bill_id = c.bill_id "
    "AND a.kind = 'leak')"
)


MARK_SQL = (
    "UPDATE bills SET leak_flagged_at = :now WHERE tenant_id = :tenant_id AND id IN "
    "(SELECT bill_id FROM bill_alerts WHERE tenant_id = :tenant_id AND kind = 'leak' AND created_at = :now)"
)


def leak_enabled(settings: Mapping[str, Any]) -> bool:
    """Whether the city flags 漏水の可能性 (``[insight] leak_enabled``); off: the import skips the step."""
    return bool(settings["insight"]["leak_enabled"])


def flag_leaks(tenant: TenantContext, after_bill_id: int, now: dt.datetime) -> int:
    """Flag the city's new bills (id above ``after_bill_id``) whose usage jumped: one statement
    whatever the number of bills, in the caller's transaction. Returns how many were flagged."""
    insight = tenant.settings["insight"]
    done = db.session.execute(text(FLAG_SQL), {
        "tenant_id": tenant.id, "after": after_bill_id, "now": now, "ratio": float(insight["leak_ratio"]),
        "min_m3": int(insight["leak_min_m3"]), "usual": int(insight["leak_usual_bills"]),
    })
    flagged = max(done.rowcount, 0)
    if flagged:  # the bills carry the mark the pages read (one more statement, only when any)
        db.session.execute(text(MARK_SQL), {"tenant_id": tenant.id, "now": now})
    return flagged


def bill_alert(bill_id: int, kind: str = LEAK) -> BillAlert | None:
    """The current city's alert of ``kind`` for one bill, or None: one statement (the unique key)."""
    return db.session.scalar(select(BillAlert).where(BillAlert.bill_id == bill_id, BillAlert.kind == kind))
