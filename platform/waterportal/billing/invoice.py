"""What makes a bill a 適格請求書 (issue 12), read from the bill and the city's ``[invoice]``.

The bill page and the issued PDF print the same facts, taken from here: the issuers of the
charges the bill carries with their 登録番号, the 取引年月日 as the city defines it, the
amounts and tax per rate, the recipient as billed (the import's ``holder_name``; the
contract's holder when the billing system did not send one), and the 媒介者交付特例 note
when the charges come from issuers with different 登録番号 and the city asks for it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.core.invoice_numbers import ROUNDINGS
from waterportal.core.wareki import japanese_date

CHARGE_LABELS = {"water": "水道料金", "sewer": "下水道使用料"}


@dataclass(frozen=True)
class Issuer:
    name: str
    registration_number: str
    charges: tuple[str, ...]  # 水道料金, 下水道使用料

    @property
    def line(self) -> str:
        """名寄市 (登録番号 T4000020012211): the issuer as the PDF and the search print it."""
        return f"{self.name}(登録番号 {self.registration_number})"


@dataclass(frozen=True)
class TaxLine:
    rate: int  # percent
    taxable: int  # yen, tax included
    tax: int

    @property
    def label(self) -> str:
        return f"{self.rate}%対象"


@dataclass(frozen=True)
class InvoiceFacts:
    issuers: tuple[Issuer, ...]
    transaction_date: str
    tax_lines: tuple[TaxLine, ...]
    recipient: str
    intermediary_note: str | None
    rounding: str  # 切り捨て / 四捨五入 / 切り上げ
    # The 取引年月日's dates (the reading date, or the period's first and last day): the bill
    # page writes them in its language; ``transaction_date`` is the Japanese the PDF prints.
    transaction_days: tuple[dt.date | None, ...] = ()

    @property
    def intermediary_parts(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """The 媒介者交付特例 note's parts, for a page that writes it in its language: the issuer
        who hands the invoice over, the others, and their charges."""
        first, *others = self.issuers
        return first.name, tuple(o.name for o in others), tuple(c for o in others for c in o.charges)

    @property
    def issuer_text(self) -> str:
        """One line per issuer, as stored with an issued document for the search by issuer."""
        return "\n".join(issuer.line for issuer in self.issuers)


def transaction_date(settings: Mapping[str, Any], bill: Bill) -> str:
    """取引年月日: the reading date, or the billing period, as the city defines it, in its
    date style (西暦 or 和暦)."""
    style = settings.get("date_style", "seireki")
    if settings["transaction_date"] == "period":
        return f"{japanese_date(bill.period_start, style)}〜{japanese_date(bill.period_end, style)}(使用期間)"
    return f"{japanese_date(bill.reading_date, style)}(検針日)"


def transaction_days(settings: Mapping[str, Any], bill: Bill) -> tuple[dt.date | None, ...]:
    """The dates of :func:`transaction_date`: (reading date,) or (first day, last day)."""
    if settings["transaction_date"] == "period":
        return (bill.period_start, bill.period_end)
    return (bill.reading_date,)


def tax_lines(settings: Mapping[str, Any], bill: Bill) -> tuple[TaxLine, ...]:
    """The amounts and tax per rate: as imported, or (no breakdown sent) all of it at 10%."""
    if bill.taxable_10 is None and bill.taxable_8 is None:
        lines = [TaxLine(10, bill.total, bill.tax), TaxLine(8, 0, 0)]
    else:
        lines = [TaxLine(10, bill.taxable_10 or 0, bill.tax_10 or 0), TaxLine(8, bill.taxable_8 or 0, bill.tax_8 or 0)]
    return tuple(line for line in lines if line.rate == 10 or line.taxable or settings["reduced_rate"])


def bill_issuers(settings: Mapping[str, Any], bill: Bill) -> tuple[Issuer, ...]:
    """The issuers of the charges this bill carries (a sewer-only bill: the sewer's), merged
    where one issuer has several; every configured issuer when the bill carries no charge."""
    configured = list(settings["issuers"])
    charged = {"water": bill.water_charge > 0, "sewer": bill.sewer_charge > 0}
    chosen = [issuer for issuer in configured if charged[issuer["charge"]]] or configured
    merged: dict[tuple[str, str], list[str]] = {}
    for issuer in chosen:
        merged.setdefault((issuer["name"], issuer["registration_number"]), []).append(CHARGE_LABELS[issuer["charge"]])
    return tuple(Issuer(name, number, tuple(charges)) for (name, number), charges in merged.items())


def invoice_facts(tenant_settings: Mapping[str, Any], contract: Contract, bill: Bill) -> InvoiceFacts | None:
    """The 適格請求書 facts of ``bill``; None when the city names no issuer."""
    settings = tenant_settings["invoice"]
    if not settings["issuers"]:
        return None
    issuers = bill_issuers(settings, bill)
    note = None
    if settings["intermediary_note"] and len({issuer.registration_number for issuer in issuers}) > 1:
        first, *others = issuers
        note = (f"この請求書は、{first.name}が{'、'.join(o.name for o in others)}の"
                f"{'、'.join(c for o in others for c in o.charges)}を媒介者交付特例により併せて交付するものです。")
    return InvoiceFacts(
        issuers=issuers, transaction_date=transaction_date(settings, bill), tax_lines=tax_lines(settings, bill),
        recipient=bill.holder_name or contract.holder_name, intermediary_note=note,
        rounding=ROUNDINGS[settings["rounding"]], transaction_days=transaction_days(settings, bill),
    )
