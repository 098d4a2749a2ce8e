"""One bill (検針・請求) per contract and billing month, and the documents (書類) of a contract."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from waterportal.core.ids import BIG_ID
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.models import TenantScoped, tenant_fk

# 「名寄市(登録番号 T4000020012211)」: one line of a document's issuers (billing/invoice.py Issuer.line).
_ISSUER_LINE = re.compile(r"^(.*)\(登録番号 (T\d+)\)$")


class Bill(TenantScoped, db.Model):
    """Meter reading and charges of one billing month. Yen are integers; ``total`` includes ``tax``."""

    __tablename__ = "bills"
    __table_args__ = (
        # Natural key of the import: one bill per contract and month. Leads with tenant_id,
        # so it also serves "the last 24 bills of this contract" in index order.
        UniqueConstraint("tenant_id", "contract_id", "billing_month"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        CheckConstraint("total = water_charge + sewer_charge", name="total_adds_up"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    billing_month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    reading_date: Mapped[dt.date]
    previous_reading: Mapped[int]
    current_reading: Mapped[int]
    usage_m3: Mapped[int]
    meter_exchanged: Mapped[bool] = mapped_column(default=False)
    water_charge: Mapped[int]
    sewer_charge: Mapped[int]
    tax: Mapped[int]
    total: Mapped[int]
    due_date: Mapped[dt.date]
    paid_on: Mapped[dt.date | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    # When the 「今回の請求金額のお知らせ」 mail was queued for this bill (billing.notify);
    # NULL when nobody was told (no opted-in member linked when the bill arrived).
    bill_notified_at: Mapped[dt.datetime | None]
    # When the bills import flagged this bill 漏水の可能性 (billing.leaks; the figures are in
    # bill_alerts): the pages, which load the bill anyway, look up the alert only when set.
    leak_flagged_at: Mapped[dt.datetime | None]
    # 適格請求書 (issue 12), from the bills import's optional columns (docs/import-formats.md):
    # the contract holder as the billing system sent it for this bill (NULL: not sent, the
    # contract's holder stands in), and the amounts (tax included) and tax per rate (NULL: not
    # sent; then everything is at 10%: ``total`` and ``tax``, checked by the import against the
    # city's rounding rule). Read them through :func:`waterportal.billing.invoice.tax_lines`.
    holder_name: Mapped[str | None] = mapped_column(String(100))
    taxable_10: Mapped[int | None]
    tax_10: Mapped[int | None]
    taxable_8: Mapped[int | None]
    tax_8: Mapped[int | None]
    # Payment details (issue 12 §3), from the bills import's optional columns; NULL: not sent.
    # payment_method: one of billing.payments.METHODS; transfer_result: the 全銀 振替結果コード
    # as the bank reported it ("0" 振替済, any other 振替不能 with that reason); message: the
    # 通信欄 printed on the bill (漏水の可能性があります, ...). Read them through billing.payments.
    payment_method: Mapped[str | None] = mapped_column(String(10))
    transfer_date: Mapped[dt.date | None]
    transfer_result: Mapped[str | None] = mapped_column(String(1))
    message: Mapped[str | None] = mapped_column(String(200))
    # The 44 digits of the convenience-store GS1-128 収納代行 data (電子納付書, billing.slip);
    # checked by the import against total and due_date.
    payment_barcode: Mapped[str | None] = mapped_column(String(44))
    # The channel the bill was paid through, from the payment-result import
    # (imports/payment_results.py: コンビニ, スマホ決済, ...); the bills import leaves it alone.
    paid_via: Mapped[str | None] = mapped_column(String(20))


class BillDocument(TenantScoped, db.Model):
    """One issued version of a bill's PDF (検針票・請求書), kept unchanged (電子帳簿保存法).

    Issued once by the worker when the bill arrives (:mod:`waterportal.billing.issuing`);
    a corrected bill (the import updated it) gets version n+1 and the older versions get
    ``superseded_at`` (shown as 訂正前) but stay downloadable. ``source_updated_at`` is the
    bill's ``updated_at`` the version was made from. ``total``, ``billing_month`` and
    ``issuers`` are copied from the issued bill so the member's search (date, amount,
    issuer) reads this table alone.
    """

    __tablename__ = "bill_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "bill_id", "version"),
        tenant_fk(["bill_id"], "bills", ondelete="CASCADE"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    bill_id: Mapped[int] = mapped_column(BIG_ID)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    version: Mapped[int]
    billing_month: Mapped[str] = mapped_column(String(7))
    total: Mapped[int]
    issuers: Mapped[str] = mapped_column(String(500))  # "名寄市 T4000020012211" lines, as printed
    issued_on: Mapped[dt.date]  # 発行日 in the city's time zone, printed on the PDF
    issued_at: Mapped[dt.datetime]
    source_updated_at: Mapped[dt.datetime]
    superseded_at: Mapped[dt.datetime | None]
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    @property
    def issuer_pairs(self) -> list[tuple[str, str]]:
        """``issuers`` as (name, 登録番号) per line, for a page to write in its language; a line
        in another shape is (line, "")."""
        pairs = []
        for line in self.issuers.splitlines():
            match = _ISSUER_LINE.match(line)
            pairs.append((match[1], match[2]) if match else (line, ""))
        return pairs


class PaymentCertificate(TenantScoped, db.Model):
    """A 収納済証明書 (proof of payment) of one contract's paid bills from ``month_from`` to
    ``month_to`` (one bill: the same month), issued once at the member's request and kept
    unchanged (:mod:`waterportal.billing.certificates`): asking again serves the same bytes."""

    __tablename__ = "payment_proofs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "contract_id", "month_from", "month_to"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    month_from: Mapped[str] = mapped_column(String(7))
    month_to: Mapped[str] = mapped_column(String(7))
    bills: Mapped[int]  # how many paid bills it certifies
    total: Mapped[int]  # their sum (tax included)
    issued_on: Mapped[dt.date]  # 発行日 in the city's time zone, printed
    issued_at: Mapped[dt.datetime]
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))


class Document(TenantScoped, db.Model):
    """One document of one contract; natural key (contract, title, issued_on)."""

    __tablename__ = "documents"
    __table_args__ = (
        # The import's natural key; it leads with (tenant_id, contract_id), so it also serves
        # "this contract's documents".
        UniqueConstraint("tenant_id", "contract_id", "title", "issued_on"),
        tenant_fk(["contract_id"], "contracts", ondelete="CASCADE"),
        TenantScoped.tenant_key(),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contract_id: Mapped[int] = mapped_column(BIG_ID)
    title: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date]
    # The name in the city's export, used for the download's file name.
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    batch_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow_naive)

    @property
    def download_name(self) -> str:
        """The name the citizen's browser saves: 「水道料金改定のお知らせ_20240801.pdf」."""
        title = "".join("_" if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in self.title)
        return f"{title}_{self.issued_on:%Y%m%d}{PurePosixPath(self.filename).suffix.lower()}"


# A member's documents by contract and 発行日 (the search of 電子帳簿保存法's 検索要件).
Index("ix_bill_documents_contract", BillDocument.tenant_id, BillDocument.contract_id, BillDocument.issued_on)

# One billing month of a city's bills (同じ人数の世帯の平均: billing/households.py reads a month's
# bills set-wise at import time; the unique key leads with contract_id after tenant_id).
Index("ix_bills_tenant_month", Bill.tenant_id, Bill.billing_month)
