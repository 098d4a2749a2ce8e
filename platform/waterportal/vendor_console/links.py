"""One-time links from the vendor console into a city's console, audited in that city.

The vendor console (on a vendor host) issues a random key, stores its SHA-256 with the
city and an expiry (``VENDOR_LINK_SECONDS``), records ``vendor.city_link`` in the city's
audit log and sends the browser to ``<scheme>://<city host>/admin/vendor-login?key=...``.
There, on the city's own host, the key is claimed once (a conditional UPDATE, so two
tabs cannot both use it) and the vendor gets a staff session of that city as the city's
account for this vendor staff member (``StaffMember.vendor_id``; created on first use,
role admin, no usable password). Everything the vendor then does is in the city's log as
``vendor:<id>``, and the city's admins see the account in 職員 and can disable it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select, update

from waterportal.admin.models import StaffMember
from waterportal.audit import services as audit
from waterportal.core.auth.passwords import hash_password
from waterportal.core.time import utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.vendor_console.auth import city_requires_second_factor, second_factor_passed
from waterportal.vendor_console.models import VendorCityLink, VendorStaff

SHADOW_DOMAIN = "vendor.invalid"  # RFC 2606: can never receive mail
SECOND_FACTOR_REQUIRED = (
    "この市町村は管理画面の2段階認証を必須にしています。確認コード(2段階認証)を設定したベンダーアカウントで"
    "ログインしてから開いてください(flask vendor totp)。"
)


class LinkRefused(Exception):
    """The link cannot be used; ``message`` is Japanese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_city_link(vendor: VendorStaff, tenant: TenantContext, remote_addr: str = "") -> str:
    """A one-time path (``/admin/vendor-login?key=...``) into ``tenant``'s console for
    ``vendor``, to be opened on the city's host (flushed and audited in the city)."""
    key = secrets.token_urlsafe(32)
    now = utcnow_naive()
    seconds = int(current_app.config.get("VENDOR_LINK_SECONDS", 60))
    link = VendorCityLink(vendor_id=vendor.id, tenant_id=tenant.id, key_hash=_hash(key), created_at=now,
                          expires_at=now + dt.timedelta(seconds=seconds), remote_addr=remote_addr[:64])
    with tenant_context(tenant):  # the link is the city's row (PostgreSQL row security)
        db.session.add(link)
        db.session.flush()
        audit.record(vendor.actor, "vendor.city_link", target=tenant.slug, remote_addr=remote_addr,
                     email=vendor.email, link=link.id, second_factor=second_factor_passed(vendor))
        db.session.flush()
    return f"/admin/vendor-login?key={key}"


def refuse_city_link(vendor: VendorStaff, tenant: TenantContext, remote_addr: str = "") -> None:
    """Record in the city's log that ``vendor`` was refused its console for want of a
    second factor (the city requires one); no link is issued."""
    with tenant_context(tenant):
        audit.record(vendor.actor, "vendor.city_link_refused", target=tenant.slug, remote_addr=remote_addr,
                     email=vendor.email, second_factor=False)
        db.session.flush()


def _shadow_staff(vendor: VendorStaff, remote_addr: str) -> StaffMember:
    staff = db.session.scalar(select(StaffMember).where(StaffMember.vendor_id == vendor.id))
    if staff is None:
        staff = StaffMember(
            email=f"vendor{vendor.id}@{SHADOW_DOMAIN}", name=f"ベンダー {vendor.name or vendor.email}", role="admin",
            # Nobody knows this password: the account opens only through a vendor link.
            password_hash=hash_password(secrets.token_urlsafe(32)), vendor_id=vendor.id,
        )
        db.session.add(staff)
        db.session.flush()
        audit.record(vendor.actor, "staff.create", target=f"staff:{staff.id}", remote_addr=remote_addr,
                     email=staff.email, role="admin", vendor=vendor.email)
    return staff


def claim_city_link(tenant: TenantContext, key: str, remote_addr: str = "") -> StaffMember:
    """Use a link on ``tenant``'s host: the city's staff account of that vendor, audited.

    Raises :class:`LinkRefused` for an unknown, used, expired or other city's key, a
    disabled vendor, or a vendor account the city has disabled. The caller starts the
    staff session and commits.
    """
    now = utcnow_naive()
    link = db.session.scalar(select(VendorCityLink).where(VendorCityLink.tenant_id == tenant.id,
                                                          VendorCityLink.key_hash == _hash(key or "")))
    if link is None or link.tenant_id != tenant.id or link.used_at is not None or link.expires_at <= now:
        raise LinkRefused("このリンクは使用済みか、有効期限が切れています。ベンダー管理画面からもう一度開いてください。")
    claimed = db.session.execute(
        update(VendorCityLink).where(VendorCityLink.id == link.id, VendorCityLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    vendor = db.session.get(VendorStaff, link.vendor_id)
    if claimed.rowcount != 1 or vendor is None or vendor.disabled:
        raise LinkRefused("このリンクは使用済みか、有効期限が切れています。ベンダー管理画面からもう一度開いてください。")
    if city_requires_second_factor(tenant) and not second_factor_passed(vendor):
        # The link was issued under the same rule (vendor_console/views.py); this catches a
        # city that began to require the second factor in the meantime.
        audit.record(vendor.actor, "vendor.city_link_refused", target=tenant.slug, remote_addr=remote_addr,
                     email=vendor.email, link=link.id, second_factor=False)
        raise LinkRefused(SECOND_FACTOR_REQUIRED)
    staff = _shadow_staff(vendor, remote_addr)
    if staff.disabled:
        audit.record(vendor.actor, "staff.login_failed", target=staff.email, remote_addr=remote_addr, reason="disabled")
        raise LinkRefused("このベンダー用アカウントは、市町村の管理者により無効にされています。")
    staff.last_login_at = now
    audit.record(vendor.actor, "vendor.login", target=f"staff:{staff.id}", remote_addr=remote_addr,
                 email=vendor.email, link=link.id, second_factor=second_factor_passed(vendor))
    return staff
