"""検針票 ペーパーレス: the first billing month a change applies to, and each contract's state.

A change applies from the **next billing month**: the month after the contract's latest
bill, by the city's cycle (``billing.cycle``: every month or every second month), and
never the current month or an earlier one (the current month's 検針票 may be printed
already). A contract without bills starts with next month.

The month is computed when the request is filed and stored in its payload
(``effective_month``), so the form, the receipt, the mail and the export say the same.

The billing system keeps the truth; the portal shows what it was asked and answered: the
contract's latest 検針票 request that was not withdrawn. 完了 means the change is in place,
an open request (受付・処理中・差戻し) is shown as pending, nothing means paper.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from waterportal.core.i18n import current_language, format_month
from waterportal.extensions import db
from waterportal.procedures.models import STATUS_COMPLETED, STATUS_WITHDRAWN, ProcedureRequest
from waterportal.tenancy.context import TenantContext

# Bills belong to the billing feature, which this feature may not import (.importlinter:
# features are independent). The composition root (app.py) puts billing's lookup of a
# contract's latest billing month here: ``app.extensions[BILL_MONTHS] = lookup``.
BILL_MONTHS = "waterportal.procedures.bill_months"
KEY = "paperless"
# The choices, stored as shown (the receipt, the staff and the CSV read the same words).
OPT_IN, OPT_OUT = "ペーパーレスにする（紙の検針票の郵送をやめる）", "紙の検針票の郵送に戻す"
STEP = {"monthly": 1, "bimonthly": 2}


def _number(billing_month: str) -> int:
    year, month = billing_month.split("-")
    return int(year) * 12 + int(month) - 1


def _month(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def next_billing_month(tenant: TenantContext, latest_bill_month: str | None, today: dt.date) -> str:
    """``YYYY-MM``: the first billing month after ``today``'s month on the contract's cycle."""
    step = STEP.get(tenant.settings["billing"]["cycle"], 1)
    this_month = today.year * 12 + today.month - 1
    if latest_bill_month is None:
        return _month(this_month + 1)
    number = _number(latest_bill_month) + step
    while number <= this_month:
        number += step
    return _month(number)


def latest_bill_month(contract_id: int) -> str | None:
    """The billing month of the contract's latest bill, from the lookup the app gave
    (:data:`BILL_MONTHS`); None without one (the change then applies from next month)."""
    lookup = current_app.extensions.get(BILL_MONTHS)
    return lookup(contract_id) if lookup is not None else None


def month_text(billing_month: str) -> str:
    """``2026-09`` -> 「2026年09月分」 (the style of the bills' months)."""
    year, month = billing_month.split("-")
    return f"{year}年{month}月分"


def shown_month(billing_month: str) -> str:
    """The month in the page's language: 「2026年09月分」 in Japanese (as before), 2026年9月,
    September 2026."""
    return month_text(billing_month) if current_language() == "ja" else format_month(billing_month)


@dataclass(frozen=True)
class PaperlessState:
    """What the contracts page says about a contract's 検針票."""

    paperless: bool
    since: str = ""  # YYYY-MM the current state applies from (empty: never changed)
    pending: ProcedureRequest | None = None

    @property
    def text(self) -> str:
        """The state in the page's language (the Japanese exactly as before)."""
        month = shown_month
        now = gettext("ペーパーレス（会員さま専用サイトでご確認）") if self.paperless else gettext("紙の検針票を郵送")
        if self.paperless and self.since:
            now += gettext(" %(month)sから", month=month(self.since))
        if self.pending is not None:
            wish = gettext("ペーパーレス") if self.pending.payload.get("choice") == OPT_IN else gettext("紙の検針票")
            effective = self.pending.payload.get("effective_month", "")
            when = gettext("、%(month)sから", month=month(effective)) if effective else ""
            now += gettext("／%(wish)sへの切替: %(status)s（%(receipt)s%(when)s）", wish=wish,
                           status=gettext(self.pending.status_label), receipt=self.pending.receipt_number, when=when)
        return now


def states(tenant: TenantContext, contract_ids: Iterable[int]) -> dict[int, PaperlessState]:
    """The state of each contract in one query (the requests of those contracts, newest first)."""
    ids = list(contract_ids)
    found: dict[int, PaperlessState] = {cid: PaperlessState(paperless=False) for cid in ids}
    if not ids:
        return found
    requests = db.session.scalars(
        select(ProcedureRequest)
        .where(ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.kind == KEY,
               ProcedureRequest.contract_id.in_(ids), ProcedureRequest.status != STATUS_WITHDRAWN)
        .order_by(ProcedureRequest.id.desc())
    )
    pending: dict[int, ProcedureRequest] = {}
    settled: set[int] = set()
    for request in requests:
        cid = request.contract_id
        if cid in settled:
            continue
        if request.status != STATUS_COMPLETED:
            pending.setdefault(cid, request)
            continue
        settled.add(cid)
        found[cid] = PaperlessState(
            paperless=request.payload.get("choice") == OPT_IN, since=request.payload.get("effective_month", ""),
        )
    for cid, request in pending.items():
        found[cid] = PaperlessState(found[cid].paperless, found[cid].since, request)
    return found
