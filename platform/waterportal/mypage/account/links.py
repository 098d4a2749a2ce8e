"""⑨ 各種お手続き: a member's links to contracts (add, label, remove). The caller commits.

Decisions (docs/profile.md):

* Adding uses exactly the registration's matching and throttles
  (:func:`waterportal.contracts.services.match_contract`, requester ``member:<id>``).
* A contract may be linked to several members: family members each with their own
  account (「家族」 is a registration choice) see the same contract. Matching needs the
  phone and kana name the city holds, so only people who know them can link.
* The same contract twice for one member is refused, before matching (no throttle used).
* The last link cannot be removed: a member without a contract sees nothing, and the
  manual's ⑨ only adds places. Leaving entirely is ⑧ 退会. Should a member end up with no
  link anyway (the city deleted a contract), the pages ask them to add one.
* At most :data:`MAX_LINKS` links per member (a landlord with many places is covered;
  a runaway script is not).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from waterportal.accounts.models import Member
from waterportal.audit import services as audit
from waterportal.contracts.models import Contract, MemberContract
from waterportal.contracts.services import link_contract, match_contract
from waterportal.core.text import digits_only, squash_spaces
from waterportal.extensions import db
from waterportal.mypage.account.errors import ProfileError
from waterportal.tenancy.context import TenantContext

MAX_LINKS = 20
LABEL_MAX = 20
ALREADY_LINKED = _l("このお客様番号は既に登録されています。")
LAST_LINK = _l(
    "最後のお客様番号は削除できません。別のお客様番号を追加してから削除してください。"
    "ポータルサイトのご利用をやめる場合は「退会のお手続き」をご利用ください。"
)


@dataclass(frozen=True)
class LinkOutcome:
    """The new link, or the mismatch reasons (contracts.services codes), or a throttle wait."""

    link: MemberContract | None = None
    reasons: tuple[str, ...] = ()
    retry_after: int = 0

    @property
    def linked(self) -> bool:
        return self.link is not None


def member_links(tenant: TenantContext, member: Member) -> list[tuple[MemberContract, Contract]]:
    """The member's links with their contracts, in the order they were added (one query)."""
    rows = db.session.execute(
        select(MemberContract, Contract)
        .join(Contract, Contract.id == MemberContract.contract_id)
        .where(MemberContract.tenant_id == tenant.id, MemberContract.member_id == member.id)
        .order_by(MemberContract.id)
    ).all()
    return [(link, contract) for link, contract in rows]


def get_link(tenant: TenantContext, member: Member, link_id: int) -> MemberContract | None:
    """The member's own link with this id (None for another member's or another city's)."""
    return db.session.scalar(
        select(MemberContract).where(
            MemberContract.tenant_id == tenant.id, MemberContract.member_id == member.id, MemberContract.id == link_id
        )
    )


def clean_label(label: str | None) -> str:
    """Spaces squashed; refused when longer than :data:`LABEL_MAX`."""
    value = squash_spaces(label)
    if len(value) > LABEL_MAX:
        raise ProfileError(gettext("呼び名は%(max)s文字以内で入力してください。", max=LABEL_MAX), "label")
    return value


def add_contract_link(
    tenant: TenantContext, member: Member, customer_number: str, phone: str, kana: str,
    label: str = "", remote_addr: str = "",
) -> LinkOutcome:
    """Match another contract as at registration and link it to ``member``.

    Raises :class:`ProfileError` for a contract the member already has, a label too long
    or too many links; a mismatch or a throttle comes back in the outcome.
    """
    label = clean_label(label)
    number = digits_only(customer_number)
    links = member_links(tenant, member)
    if any(contract.customer_number == number for _, contract in links):
        raise ProfileError(ALREADY_LINKED, "customer_number")
    if len(links) >= MAX_LINKS:
        raise ProfileError(gettext("登録できるお客様番号は%(max)s件までです。", max=MAX_LINKS), "customer_number")
    outcome = match_contract(tenant, number, phone, kana, requester=f"member:{member.id}", remote_addr=remote_addr)
    if not outcome.matched:
        return LinkOutcome(reasons=outcome.reasons, retry_after=outcome.retry_after)
    link = link_contract(tenant, member.id, outcome.contract_id, label=label)
    audit.record(f"member:{member.id}", "contract.linked", target=f"contract:{outcome.contract_id}",
                 remote_addr=remote_addr)
    return LinkOutcome(link=link)


def label_contract(
    tenant: TenantContext, member: Member, link_id: int, label: str, remote_addr: str = ""
) -> MemberContract | None:
    """Set the member's name for one of their contracts (empty clears it); None: not theirs."""
    link = get_link(tenant, member, link_id)
    if link is None:
        return None
    link.label = clean_label(label)
    audit.record(f"member:{member.id}", "contract.labelled", target=f"contract:{link.contract_id}",
                 remote_addr=remote_addr, label=link.label)
    return link


def remove_contract_link(
    tenant: TenantContext, member: Member, link_id: int, remote_addr: str = ""
) -> MemberContract | None:
    """Remove one of the member's links (never the last one); None: not theirs.

    The contract and its bills stay: they are the city's.
    """
    link = get_link(tenant, member, link_id)
    if link is None:
        return None
    count = db.session.scalar(select(func.count(MemberContract.id)).where(MemberContract.member_id == member.id))
    if count <= 1:
        raise ProfileError(LAST_LINK)
    db.session.delete(link)
    db.session.flush()
    audit.record(f"member:{member.id}", "contract.unlinked", target=f"contract:{link.contract_id}",
                 remote_addr=remote_addr)
    return link
