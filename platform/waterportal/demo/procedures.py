"""Demo 各種お手続き for `make demo`: a few requests in several states in each city, so the
staff queue (/admin/procedures) and the demo member's 「各種お手続き」 are not empty.

They are filed and processed through the real services (``submit_procedure``,
``change_status``, ``assign``: events, audit entries, 受付番号 as for any request) by a
new resident without an account and by the city's demo member, for the kinds the city
has switched on. Seeded once per city: a city that has any request already is left alone
(what a tester filed survives a second `make demo`). The receipt and status mails of the
seeding are dropped before the commit: nobody filed these.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from waterportal.accounts.services import find_member_by_email
from waterportal.admin.staff.services import find_staff
from waterportal.contracts.models import Contract
from waterportal.demo.members import DEMO_MEMBERS
from waterportal.demo.staff import DEMO_STAFF
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import dates, services
from waterportal.procedures.catalog.payment_method import DEBIT
from waterportal.procedures.models import (
    STATUS_COMPLETED,
    STATUS_IN_PROGRESS,
    STATUS_RECEIVED,
    STATUS_RETURNED,
    ProcedureRequest,
)
from waterportal.procedures.paperless_state import OPT_IN
from waterportal.tenancy.context import TenantContext, tenant_context


@dataclass(frozen=True)
class DemoRequest:
    """One seeded request: its kind, who files it, its payload (given the first allowed
    date) and the status it is moved to, with the city's message."""

    kind: str
    member: bool
    payload: Callable[[dt.date, Contract | None], dict[str, Any]]
    status: str = STATUS_RECEIVED
    message: str = ""
    email: str = ""


def _move_in(name: str, kana: str, address: str, phone: str) -> Callable[[dt.date, Contract | None], dict[str, Any]]:
    def payload(day: dt.date, _contract: Contract | None) -> dict[str, Any]:
        return {"address": address, "building": "", "room": "", "start_date": day.isoformat(), "name": name,
                "name_kana": kana, "phone": phone, "persons": "2", "billing_address": "", "payment": "口座振替",
                "remarks": ""}
    return payload


def _move_out(day: dt.date, contract: Contract | None) -> dict[str, Any]:
    return {"stop_date": day.isoformat(), "final_address": "札幌市中央区北1条西2丁目1番地",
            "final_payment": "転居先に納付書を送ってもらう", "contact_phone": contract.phone if contract else "",
            "meter_access": "メーターは玄関横にあります。立会いは不要です。"}


def _billing_address(_day: dt.date, _contract: Contract | None) -> dict[str, Any]:
    return {"postal_code": "060-0001", "prefecture": "北海道", "city": "札幌市中央区", "street": "北1条西2丁目1番地",
            "building": "", "recipient": "デモ 送付先"}


def _direct_debit(_day: dt.date, contract: Contract | None) -> dict[str, Any]:
    return {"method": DEBIT, "bank": "0116", "branch": "704", "account_type": "普通", "account_number": "0123456",
            "holder_kana": contract.holder_name_kana if contract else "ﾃﾞﾓ ﾀﾛｳ"}


def _holder_change(day: dt.date, _contract: Contract | None) -> dict[str, Any]:
    return {"new_name": "企業 次郎", "new_name_kana": "キギョウジロウ", "relationship": "子",
            "reason": "ご家族の間での名義の変更", "reason_detail": "", "effective_date": day.isoformat(), "phone": "0762202111"}


def _paperless(_day: dt.date, _contract: Contract | None) -> dict[str, Any]:
    return {"choice": OPT_IN, "consent": "y"}


SEEDS: dict[str, tuple[DemoRequest, ...]] = {
    "nayoro": (
        DemoRequest("move_in", False, _move_in("転入 一郎", "テンニュウイチロウ", "名寄市西3条南5丁目14番地", "09012345678"),
                    email="tennyu1@nayoro.localhost"),
        DemoRequest("move_in", False, _move_in("転入 二郎", "テンニュウジロウ", "名寄市風連町本町101番地", "09023456789"),
                    STATUS_IN_PROGRESS, "内容を確認しました。開栓の日程は別途ご連絡します。", email="tennyu2@nayoro.localhost"),
        DemoRequest("billing_address", True, _billing_address, STATUS_RETURNED,
                    "郵便番号と住所が一致しません。送付先の住所をご確認のうえ、再提出してください。"),
        DemoRequest("move_out", True, _move_out, STATUS_COMPLETED, "使用中止の手続きが完了しました。最終料金は転居先にお送りします。"),
        DemoRequest("payment_method", True, _direct_debit, STATUS_IN_PROGRESS,
                    "口座振替依頼書を受け取りました。金融機関に口座を確認しています。"),
        DemoRequest("paperless", True, _paperless),
    ),
    "kanazawa": (
        DemoRequest("move_in", False, _move_in("転入 花子", "テンニュウハナコ", "金沢市広坂1丁目1番1号", "09034567890"),
                    email="tennyu1@kanazawa.localhost"),
        DemoRequest("move_in", False, _move_in("転入 桜", "テンニュウサクラ", "金沢市香林坊2丁目2番2号", "09045678901"),
                    STATUS_IN_PROGRESS, "内容を確認しました。開栓の日程は別途ご連絡します。", email="tennyu2@kanazawa.localhost"),
        DemoRequest("billing_address", True, _billing_address, STATUS_IN_PROGRESS, "送付先の変更を受け付けました。"),
        DemoRequest("move_out", True, _move_out, STATUS_RETURNED,
                    "使用中止日が引越し予定日と異なるようです。日付をご確認のうえ、再提出してください。"),
        DemoRequest("holder_change", True, _holder_change),
    ),
}


def _operator(tenant: TenantContext) -> tuple[str, int | None]:
    """The audit name and id of the city's demo operator (``vendor:cli`` before `flask demo staff`)."""
    email = next((s.email for s in DEMO_STAFF if s.city == tenant.slug and s.role == "operator"), None)
    staff = find_staff(email) if email else None
    return (staff.actor, staff.id) if staff is not None else ("vendor:cli", None)


def seed_procedures(tenant: TenantContext, today: dt.date) -> list[str]:
    """File the city's demo requests unless it has any; return their 受付番号 (flushes only).

    Kinds the city has not switched on are skipped; a payload a kind refuses raises
    ``ProcedureInvalid`` (the demo must follow the kind's rules like anyone)."""
    with tenant_context(tenant):
        if db.session.scalar(select(func.count(ProcedureRequest.id))):
            return []
        enabled = {kind.key for kind in services.enabled_kinds(tenant)}
        spec = DEMO_MEMBERS[tenant.slug]
        member = find_member_by_email(tenant, spec.email)
        contract = db.session.scalar(select(Contract).where(Contract.customer_number == spec.customer_numbers[0]))
        day = dates.date_window(tenant, today).business_days()[0]
        actor, staff_id = _operator(tenant)
        first_mail = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        filed = []
        for seed in SEEDS[tenant.slug]:
            if seed.kind not in enabled or (seed.member and (member is None or contract is None)):
                continue
            request = services.submit_procedure(
                tenant, seed.kind, seed.payload(day, contract), member=member if seed.member else None,
                contract=contract if seed.member else None, email=seed.email or None, remote_addr="demo", today=today,
            )
            if seed.status != STATUS_RECEIVED and staff_id is not None:
                services.assign(tenant, request, staff_id, actor, remote_addr="demo")
            if seed.status in (STATUS_IN_PROGRESS, STATUS_COMPLETED):
                services.change_status(tenant, request, STATUS_IN_PROGRESS, seed.message if seed.status ==
                                       STATUS_IN_PROGRESS else "", actor, remote_addr="demo")
            if seed.status in (STATUS_COMPLETED, STATUS_RETURNED):
                services.change_status(tenant, request, seed.status, seed.message, actor, remote_addr="demo")
            filed.append(request.receipt_number)
        # Nobody filed these: their receipt and status mails are never sent.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.tenant_id == tenant.id,
                                                       OutboxMessage.id > first_mail,
                                                       OutboxMessage.status == "pending"))
        db.session.flush()
        return filed
