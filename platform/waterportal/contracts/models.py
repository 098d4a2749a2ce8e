"""A water contract as the city's billing system knows it, and members' links to contracts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from waterportal.contracts.areas import area_of
from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk


class Contract(TenantScoped, db.Model):
    """お客様番号 with holder, address and meter; imported from the billing system."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_number"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20))
    holder_name: Mapped[str] = mapped_column(String(100))
    # Stored normalised (full-width katakana, no spaces) for matching at registration.
    holder_name_kana: Mapped[str] = mapped_column(String(100))
    # Digits only.
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    # The address's 町名/丁目 (contracts/areas.py area_of), set with the address here and by
    # the contracts import: area alerts match it by equality, set-wise (issue 14 §4).
    address_area: Mapped[str | None] = mapped_column(String(100))
    meter_number: Mapped[str] = mapped_column(String(30))
    meter_diameter_mm: Mapped[int]
    # "monthly" / "bimonthly" from the contracts import's optional billing_cycle column
    # (Nayoro's suburbs are read every two months); NULL: the city's [billing] cycle.
    billing_cycle: Mapped[str | None] = mapped_column(String(10))
    # 世帯人数 from the contracts import's optional persons column (1-20; NULL: not known): the
    # household's group for 同じ人数の世帯の平均 (billing/households.py, issue 14 §2).
    persons: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    # When an import last changed this contract's data or its bills (最終更新時間).
    data_updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    @validates("address")
    def _keep_area(self, _key: str, address: str) -> str:
        self.address_area = area_of(address)
        return address


Index("ix_contracts_tenant_phone", Contract.tenant_id, Contract.phone)
Index("ix_contracts_tenant_area", Contract.tenant_id, Contract.address_area)


class MemberContract(TenantScoped, db.Model):
    """A member's link to a contract, with the member's own label (「自宅」「実家」)."""

    __tablename__ = "member_contracts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "contract_id"),
        TenantScoped.tenant_key(),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int]
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    label: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)


# Members of one contract (bill mail: who gets the mail of a new bill); the unique key above
# leads with member_id, so it cannot serve this.
Index("ix_member_contracts_tenant_contract", MemberContract.tenant_id, MemberContract.contract_id)
