"""Online payment providers (issue 12 §4): one class per provider, chosen per city by
``[payment.provider] kind`` (tenant.toml, tenancy/schemas.py ``PaymentProviderSchema``).

A provider only says where to send the citizen to pay an open bill; the payment itself (card
number, smartphone app) happens on the provider's site, so no card data ever passes through
the portal. The provider reports back through the billing system, whose next bills export
carries ``paid_on`` (and the bill then shows 納付済), or through the payment-result import.

To add a provider: subclass :class:`PaymentProvider`, set ``kind`` and register it in
:data:`PROVIDERS` (and the schema's ``OneOf``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract


class PaymentProvider(ABC):
    """Where a citizen pays one bill online."""

    kind: ClassVar[str]

    def __init__(self, settings: Mapping[str, Any]):
        self.name: str = settings["name"]
        self.settings = settings

    @abstractmethod
    def payment_url(self, bill: Bill, contract: Contract) -> str:
        """The provider's page for paying ``bill`` (the citizen's browser goes there)."""


def bill_reference(bill: Bill, contract: Contract) -> str:
    """The bill's reference a provider is given: the 収納代行 data when the billing system sent
    it (the provider reads the issuer's 自由使用欄 from it), else お客様番号-請求月."""
    return bill.payment_barcode or f"{contract.customer_number}-{bill.billing_month.replace('-', '')}"


class RedirectProvider(PaymentProvider):
    """The example provider: a configured URL with ``{reference}``, ``{amount}`` and
    ``{due_date}`` (YYYYMMDD) filled in, URL-encoded; e.g.
    ``https://pay.example.jp/water?ref={reference}&amount={amount}``."""

    kind = "redirect"

    def payment_url(self, bill: Bill, contract: Contract) -> str:
        values = {"reference": bill_reference(bill, contract), "amount": str(bill.total),
                  "due_date": bill.due_date.strftime("%Y%m%d")}
        url = self.settings["url"]
        for name, value in values.items():
            url = url.replace("{" + name + "}", quote(value, safe=""))
        return url


PROVIDERS: dict[str, type[PaymentProvider]] = {RedirectProvider.kind: RedirectProvider}


def provider_for(settings: Mapping[str, Any]) -> PaymentProvider | None:
    """The city's provider (``[payment.provider]``), or None when it has none."""
    configured = settings["payment"].get("provider")
    if not configured:
        return None
    return PROVIDERS[configured["kind"]](configured)
