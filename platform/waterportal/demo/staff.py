"""Demo console accounts for `make demo`: city staff of both cities and one vendor staff member.

Fixed passwords (listed in the README) that satisfy the staff policy, created through the
real services (audited as ``vendor:cli``) and only once: running again changes nothing,
so a password changed during the demo is kept.
"""
from __future__ import annotations

from dataclasses import dataclass

from waterportal.admin.staff import services as staff_services
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry
from waterportal.vendor_console import auth


@dataclass(frozen=True)
class DemoStaff:
    """One demo console account; ``city`` is None for the vendor console."""

    city: str | None
    email: str
    password: str
    name: str
    role: str = "admin"


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("nayoro", "admin@nayoro.localhost", "Nayoro-Suido-2026!", "名寄 管理者"),
    DemoStaff("nayoro", "operator@nayoro.localhost", "Nayoro-Madoguchi-2026!", "名寄 窓口", "operator"),
    DemoStaff("kanazawa", "admin@kanazawa.localhost", "Kanazawa-Suido-2026!", "金沢 管理者"),
    DemoStaff("kanazawa", "operator@kanazawa.localhost", "Kanazawa-Madoguchi-2026!", "金沢 窓口", "operator"),
    DemoStaff(None, "vendor@vendor.localhost", "Unyo-Jigyosha-2026!", "運用 担当"),
)


def ensure_demo_staff(account: DemoStaff) -> bool:
    """Create ``account`` unless it exists; True when created. The caller commits."""
    if account.city is None:
        if auth.find_vendor(account.email) is not None:
            return False
        auth.create_vendor_staff(account.email, account.password, account.name)
        return True
    tenant = get_registry().by_slug(account.city)
    if tenant is None:
        raise LookupError(f"{account.city} is not applied")
    with tenant_context(tenant):
        if staff_services.find_staff(account.email) is not None:
            return False
        staff_services.create_staff(tenant, account.email, account.role, account.name, account.password,
                                    actor="vendor:cli")
        db.session.flush()
    return True
