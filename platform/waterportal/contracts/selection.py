"""The contract a member is looking at (お客さま番号 switcher).

A member may be linked to several contracts (「自宅」「実家」). Every member page works on
one of them: the one chosen with :func:`select_contract`, kept in the (host-only, per
city) session as ``contract_id``, else the first link. The id in the session is only a
preference: it is always checked against the member's links, so a stale or forged value
falls back to the first link instead of showing anything else.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import abort, session
from sqlalchemy import Select, bindparam, select

from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db

if TYPE_CHECKING:  # only for annotations: accounts sits above contracts
    from waterportal.accounts.models import Member

SESSION_KEY = "contract_id"


@dataclass(frozen=True)
class LinkedContract:
    """One of a member's links: the link's id and label, and the contract itself."""

    link_id: int
    label: str
    contract: Contract

    @property
    def contract_id(self) -> int:
        return self.contract.id

    @property
    def customer_number(self) -> str:
        return self.contract.customer_number

    @property
    def display_name(self) -> str:
        """「自宅(00012345678)」 or the bare number when the member gave no label."""
        number = self.contract.customer_number
        return f"{self.label}({number})" if self.label else number


@functools.cache
def links_statement() -> Select:
    """The member's links with their contracts, in the order they were linked; the member
    is bound at execution (``member_id``). Built once: every member page runs it, and
    building it anew cost more than running it (issue 10). Callers may add columns (the
    dashboard adds each contract's newest bill); the rows start with link id, label, contract."""
    return (
        select(MemberContract.id, MemberContract.label, Contract)
        .join(Contract, Contract.id == MemberContract.contract_id)
        .where(MemberContract.member_id == bindparam("member_id"))
        .order_by(MemberContract.id)
    )


def as_links(rows: Iterable[Any]) -> list[LinkedContract]:
    """:class:`LinkedContract` of rows of :func:`links_statement` (extra columns ignored)."""
    return [LinkedContract(row[0], row[1] or "", row[2]) for row in rows]


def linked_contracts(member: Member) -> list[LinkedContract]:
    """The member's contracts in the order they were linked (one query)."""
    return as_links(db.session.execute(links_statement(), {"member_id": member.id}))


def selected_contract(member: Member, links: list[LinkedContract] | None = None) -> LinkedContract | None:
    """The contract being viewed: the session's choice if still linked, else the first link.

    Pass ``links`` when the page already loaded them (saves the query).
    """
    if links is None:
        links = linked_contracts(member)
    wanted = session.get(SESSION_KEY)
    for link in links:
        if link.contract_id == wanted:
            return link
    return links[0] if links else None


def select_contract(member: Member, contract_id: int) -> LinkedContract:
    """Make ``contract_id`` the contract being viewed; 404 unless the member is linked to it."""
    for link in linked_contracts(member):
        if link.contract_id == contract_id:
            session[SESSION_KEY] = contract_id
            return link
    abort(404)
