"""Finding a citizen's contract (at registration and when adding another contract).

A contract matches when its お客様番号 exists in *this* city and both the phone
number and the holder's kana name agree, after the normalisation in
:mod:`waterportal.core.text` (full-width digits, hyphens, hiragana, half-width kana,
spaces).

What the citizen is told: which of the three did not agree, as the city's manual
shows (「・お客様番号が存在しません。」). That is an oracle ("this phone belongs to
contract X"), so every attempt is throttled before anything is looked up: per
お客様番号 (:data:`PER_NUMBER`), per registration or member (:data:`PER_REQUESTER`)
and per client address (:data:`PER_ADDRESS`). An attacker then has a handful of
guesses per number per quarter hour against 10^10 phone numbers, and must already
know the kana name; a citizen with a typo is told what to fix.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from waterportal.contracts.models import Contract, MemberContract
from waterportal.core import throttle
from waterportal.core.text import digits_only, katakana_name
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext

PER_NUMBER = throttle.Rule("contract-match-number", "5 per 15 minutes")
PER_REQUESTER = throttle.Rule("contract-match-requester", "10 per hour")
PER_ADDRESS = throttle.Rule("contract-match-address", "30 per hour")

NUMBER_UNKNOWN = "number_unknown"
PHONE_MISMATCH = "phone_mismatch"
KANA_MISMATCH = "kana_mismatch"

# What the citizen reads, in the language of the page that shows it (lazy strings).
REASON_TEXT = {
    NUMBER_UNKNOWN: _l("・お客様番号が存在しません。"),
    PHONE_MISMATCH: _l("・電話番号が登録内容と一致しません。"),
    KANA_MISMATCH: _l("・お客様氏名カナが登録内容と一致しません。"),
}
NOT_FOUND = _l("該当する契約が見つかりませんでした。入力内容をご確認ください。")


@dataclass(frozen=True)
class MatchOutcome:
    """A matched contract id, or the reasons it did not match, or a throttle wait."""

    contract_id: int | None = None
    reasons: tuple[str, ...] = ()
    retry_after: int = 0

    @property
    def matched(self) -> bool:
        return self.contract_id is not None

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def throttle_message(seconds: int) -> str:
    """The notice saying when matching may be tried again (in the request's language)."""
    minutes = max(1, -(-seconds // 60))
    return gettext("お客様番号の照合が短時間に繰り返されたため、一時的に受け付けを停止しています。"
                   "%(minutes)s分後に再度お試しください。", minutes=minutes)


def _keys(number: str, requester: str, remote_addr: str) -> list[tuple[throttle.Rule, str]]:
    keys = [(PER_NUMBER, number), (PER_REQUESTER, requester)]
    if remote_addr:
        keys.append((PER_ADDRESS, remote_addr))
    return keys


def match_contract(
    tenant: TenantContext, customer_number: str, phone: str, kana: str, *, requester: str, remote_addr: str = ""
) -> MatchOutcome:
    """Find the contract for these details in ``tenant``, counting one attempt.

    ``requester`` names who asks (``"draft:12"``, ``"member:3"``). When any throttle is
    exhausted nothing is looked up and the outcome carries ``retry_after`` seconds.
    """
    number = digits_only(customer_number)
    keys = _keys(number, requester, remote_addr)
    waits = [throttle.retry_after(tenant, rule, key) for rule, key in keys if not throttle.allowed(tenant, rule, key)]
    if waits:
        return MatchOutcome(retry_after=max(waits))
    for rule, key in keys:
        throttle.hit(tenant, rule, key)
    contract = db.session.scalar(
        select(Contract).where(Contract.tenant_id == tenant.id, Contract.customer_number == number)
    )
    if contract is None:
        return MatchOutcome(reasons=(NUMBER_UNKNOWN,))
    reasons = []
    if not hmac.compare_digest(digits_only(contract.phone).encode(), digits_only(phone).encode()):
        reasons.append(PHONE_MISMATCH)
    if not hmac.compare_digest(katakana_name(contract.holder_name_kana).encode(), katakana_name(kana).encode()):
        reasons.append(KANA_MISMATCH)
    if reasons:
        return MatchOutcome(reasons=tuple(reasons))
    return MatchOutcome(contract_id=contract.id)


def get_contract(tenant: TenantContext, contract_id: int) -> Contract | None:
    """The contract with this id in ``tenant`` (None in any other city)."""
    return db.session.scalar(select(Contract).where(Contract.tenant_id == tenant.id, Contract.id == contract_id))


def link_contract(tenant: TenantContext, member_id: int, contract_id: int, label: str = "") -> MemberContract:
    """Link a member to a contract of the same city (idempotent). Flushes only."""
    link = db.session.scalar(
        select(MemberContract).where(
            MemberContract.tenant_id == tenant.id, MemberContract.member_id == member_id,
            MemberContract.contract_id == contract_id,
        )
    )
    if link is None:
        link = MemberContract(tenant_id=tenant.id, member_id=member_id, contract_id=contract_id, label=label)
        db.session.add(link)
        db.session.flush()
    return link
