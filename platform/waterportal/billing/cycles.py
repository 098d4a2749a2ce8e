"""The billing cycle of a contract (issue 12 §5): its own (the contracts import's optional
``billing_cycle`` column: Nayoro's suburbs are read every two months) or the city's."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from waterportal.contracts.models import Contract

# In the language of the page or mail that shows them.
CYCLE_WORDS = {"monthly": _l("毎月"), "bimonthly": _l("2か月ごと")}


def contract_cycle(settings: Mapping[str, Any], contract: Contract | None) -> str:
    """``"monthly"`` or ``"bimonthly"``: the contract's cycle, else the city's ``[billing] cycle``."""
    own = contract.billing_cycle if contract is not None else None
    return own or settings["billing"]["cycle"]
