"""My data (issue 14 §5): one contract's usage and bill history as a CSV a spreadsheet opens.

Two years back from today (the billing months from 23 months before this month on), one row
per bill, oldest first as a spreadsheet reads down. UTF-8 with a BOM by
default (Excel then shows the Japanese), or Shift_JIS (cp932, no BOM) on request; CRLF line
ends and every cell formula-neutralised (core/spreadsheet.py). The text is Japanese whatever
the page's language (the city's data as its own files write it); the billing month is
written in the city's ``[invoice] date_style`` (令和8年10月 / 2026年10月), the dates as
2026/10/20, which every spreadsheet reads as a date, and the amounts as plain integers.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from waterportal.billing.models import Bill
from waterportal.billing.payments import transfer_status
from waterportal.billing.queries import month_label, month_number
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.i18n import force_language
from waterportal.core.spreadsheet import excel_csv
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.words import customer_number_label

HISTORY_MONTHS = 24
# The ?encoding= values the page offers: (Python codec, the charset the response names).
ENCODINGS = {"utf-8": ("utf-8", "utf-8"), "shift_jis": ("cp932", "Shift_JIS")}
# The first column is named with the city's word (お客様番号 / お客さま番号), :func:`header`.
HEADER = ("お客さま番号", "請求月", "使用期間(開始)", "使用期間(終了)", "検針日", "使用量(m3)", "水道料金(円)",
          "下水道使用料(円)", "うち消費税等(円)", "合計(円)", "納期限", "納付状況", "納付日", "お支払い方法", "口座振替の結果")


def first_month(today: dt.date) -> str:
    """The oldest billing month in the file: 23 months before ``today``'s (2026-11-18 -> 2024-12)."""
    number = month_number(f"{today:%Y-%m}") - (HISTORY_MONTHS - 1)
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def member_history(member_id: int, contract_id: int, today: dt.date) -> tuple[Contract, list[Bill]] | None:
    """The contract (only if it is one of ``member_id``'s links in the current city) and its
    bills of the last two years, oldest first; None otherwise. Two statements."""
    contract = db.session.scalar(
        select(Contract).join(MemberContract, MemberContract.contract_id == Contract.id)
        .where(Contract.tenant_id == current_tenant().id, Contract.id == contract_id,
               MemberContract.member_id == member_id))
    if contract is None:
        return None
    bills = list(db.session.scalars(
        select(Bill).where(Bill.tenant_id == contract.tenant_id, Bill.contract_id == contract.id,
                           Bill.billing_month >= first_month(today))
        .order_by(Bill.billing_month)))
    return contract, bills


def _date(value: dt.date | None) -> str:
    return f"{value:%Y/%m/%d}" if value else ""


def history_rows(tenant: TenantContext, contract: Contract, bills: list[Bill]) -> list[list[object]]:
    """The CSV's rows (see :data:`HEADER`), in Japanese."""
    style = tenant.settings["invoice"].get("date_style", "seireki")
    with force_language("ja"):  # the status words are gettext'd for the pages
        return [[
            contract.customer_number, month_label(bill.billing_month, style), _date(bill.period_start),
            _date(bill.period_end), _date(bill.reading_date), bill.usage_m3, bill.water_charge, bill.sewer_charge,
            bill.tax, bill.total, _date(bill.due_date), "納付済" if bill.paid_on else "未納", _date(bill.paid_on),
            bill.paid_via or bill.payment_method or "", transfer_status(bill),
        ] for bill in bills]


def header(tenant: TenantContext) -> tuple[str, ...]:
    """:data:`HEADER` with the city's name for the customer number."""
    return (customer_number_label(tenant.settings), *HEADER[1:])


def history_csv(tenant: TenantContext, contract: Contract, bills: list[Bill], encoding: str = "utf-8") -> bytes:
    """The file: ``encoding`` is a key of :data:`ENCODINGS`."""
    return excel_csv(header(tenant), history_rows(tenant, contract, bills), encoding=ENCODINGS[encoding][0])


def history_filename(contract: Contract, today: dt.date) -> str:
    """使用履歴_00012345682_20261118.csv."""
    return f"使用履歴_{contract.customer_number}_{today:%Y%m%d}.csv"
