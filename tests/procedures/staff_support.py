"""Requests as the staff queue, the export and the status import find them: written
straight to the tables (the filing itself is tested with the citizen's pages), in any
state and at any moment."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from waterportal.extensions import db
from waterportal.procedures.catalog.payment_method import DEBIT
from waterportal.procedures.models import ProcedureAttachment, ProcedureEvent, ProcedureRequest
from waterportal.procedures.services import encrypt_field
from waterportal.tenancy.context import tenant_context

_numbers = itertools.count(1)

MOVE_IN = {
    "address": "風連町西町196番地1", "building": "ハイツ名寄", "room": "101", "start_date": "2026-12-01",
    "name": "転入 花子", "name_kana": "テンニュウハナコ", "phone": "0165432111", "persons": 2,
    "billing_address": "", "payment": "口座振替", "remarks": "",
}
PAYMENT = {
    "method": DEBIT, "bank_code": "0001", "bank_name": "みずほ銀行", "branch_code": "001",
    "branch_name": "東京営業部", "account_type": "普通", "account_type_code": "1", "account_number": "9876543",
    "holder_kana": "ｽｲﾄﾞｳ ﾀﾛｳ", "yucho_symbol": "", "yucho_number": "",
}


def add_request(app, tenant, kind: str = "move_in", status: str = "in_progress", *,
                created_at: dt.datetime = dt.datetime(2026, 11, 17, 1, 0), payload: dict[str, Any] | None = None,
                files: tuple[tuple[str, str, bytes], ...] = (), **fields: Any) -> int:
    """A request of ``tenant`` (created_at naive UTC) with its 受付 event; returns its id.
    ``payload`` defaults to a valid one of ``kind``; sensitive fields are sealed as the app does."""
    number = next(_numbers)
    data = dict(payload if payload is not None else (PAYMENT if kind == "payment_method" else MOVE_IN))
    values = {
        "receipt_number": f"R2026-{number:06d}", "applicant_email": f"shinsei{number}@example.jp",
        "applicant_name": "転入 花子", "applicant_kana": "テンニュウハナコ", "fingerprint": f"{number:064d}",
        "customer_number": "",
    }
    values.update(fields)
    with app.app_context(), tenant_context(tenant):
        if kind == "payment_method" and data.get("account_number"):
            data["account_number"] = encrypt_field(data["account_number"])
        request = ProcedureRequest(kind=kind, status=status, payload=data, created_at=created_at,
                                   updated_at=created_at, **values)
        db.session.add(request)
        db.session.flush()
        db.session.add(ProcedureEvent(request_id=request.id, status="received", actor_kind="applicant",
                                      created_at=created_at))
        for name, content_type, body in files:
            db.session.add(ProcedureAttachment(request_id=request.id, filename=name, content_type=content_type,
                                               size=len(body), sha256="0" * 64, data=body))
        db.session.commit()
        return request.id


def get_request(app, tenant, request_id: int) -> ProcedureRequest:
    """The request as stored now (detached: read its columns)."""
    with app.app_context(), tenant_context(tenant):
        request = db.session.get(ProcedureRequest, request_id)
        db.session.expunge(request)
        return request
