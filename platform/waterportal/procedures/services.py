"""Procedures: filing one, its status history, assignment, and what the pages read.

Every function takes the city explicitly and flushes; the request (or command) commits, so
a request, its first event, its attachments, its audit entry and its mail are one
transaction. Design and rules: docs/procedures.md.

Personal data: the kind's ``sensitive`` payload fields (a bank account number) are stored
encrypted with the key ring of the TOTP secrets (``core/auth/secret_box.py``), shown
masked (last 3 digits) on every page and in every mail, and decrypted only for the export
to the billing system (:func:`export_payload`). They are never logged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app
from flask_babel import gettext
from marshmallow import ValidationError
from marshmallow.experimental.context import Context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from waterportal.accounts.models import Member
from waterportal.audit import services as audit
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth import secret_box
from waterportal.core.database import one_at_a_time
from waterportal.core.forms import without_controls
from waterportal.core.text import normalise_email
from waterportal.core.time import local_now, utcnow_naive
from waterportal.extensions import db
from waterportal.mail.services import portal_url, queue_mail
from waterportal.procedures import dates
from waterportal.procedures.attachments import AttachmentLimits, AttachmentRefused, CheckedFile, Upload, check_uploads
from waterportal.procedures.fields import FieldContext, display_value
from waterportal.procedures.kinds import KindContext, ProcedureInvalid, ProcedureKind, get_kind, ordered
from waterportal.procedures.models import (
    ACTOR_APPLICANT,
    ACTOR_STAFF,
    ACTOR_SYSTEM,
    ACTOR_VENDOR,
    STATUS_RECEIVED,
    STATUS_RETURNED,
    STATUS_WITHDRAWN,
    TRANSITIONS,
    ProcedureAttachment,
    ProcedureCounter,
    ProcedureEvent,
    ProcedureRequest,
)
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.procedures")

__all__ = [
    "ProcedureInvalid", "ProcedureUnavailable", "ProcedureStateError", "Upload",
    "submit_procedure", "change_status", "resubmit", "assign", "withdraw",
    "encrypt_field", "decrypt_field", "mask", "summary", "export_payload",
]

# The citizen's pages (blueprint ``procedures``); built here, not with url_for, because the
# CLI and the demo file procedures without a request.
DETAIL_PATH = "/procedures/{receipt}"
MENU_PATH = "/procedures/"


class ProcedureUnavailable(Exception):
    """The kind is unknown, not enabled in the city, or not open to this applicant
    (needs a login, needs a linked contract)."""


class ProcedureStateError(Exception):
    """A status change the request's current status does not allow."""


# --- sensitive fields ---------------------------------------------------------------------

def encrypt_field(value: str) -> str:
    """``value`` sealed under the newest key of the key ring (what the payload stores)."""
    return secret_box.seal(value)


def decrypt_field(stored: str) -> str:
    """The value of a sealed field (raises ``secret_box.SealError`` when no key opens it)."""
    return secret_box.unseal(stored)


def mask(value: str, keep: int = 3) -> str:
    """``*****123``: every character but the last ``keep`` hidden (an empty value stays empty)."""
    if not value:
        return ""
    shown = value[-keep:] if len(value) > keep else ""
    return "*" * (len(value) - len(shown)) + shown


def masked_payload(kind: ProcedureKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The stored payload with every sensitive field decrypted and masked (for pages and mail)."""
    shown = dict(payload)
    for key in kind.sensitive:
        if shown.get(key):
            try:
                shown[key] = mask(decrypt_field(shown[key]))
            except secret_box.SealError:
                shown[key] = "***"
    return shown


def export_payload(kind: ProcedureKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The stored payload with every sensitive field decrypted: only for the billing
    system's export file, never for a page, a mail or a log."""
    plain = dict(payload)
    for key in kind.sensitive:
        if plain.get(key):
            plain[key] = decrypt_field(plain[key])
    return plain


def summary(tenant: TenantContext, request: ProcedureRequest) -> list[tuple[str, str]]:
    """(label, value) rows of a request for its receipt page, detail page and mail:
    sensitive fields masked."""
    kind = get_kind(request.kind)
    if kind is None:
        return []
    shown = masked_payload(kind, request.payload or {})
    if kind.summary is not None:
        return kind.summary(tenant, shown)
    fields = kind.schema().fields
    return [(label, display_value(shown.get(key), tuple(fields[key].metadata.get("choices", ()))))
            for key, label in kind.labelled_fields() if shown.get(key) not in (None, "")]


# --- which kinds a city offers ------------------------------------------------------------

def enabled_kinds(tenant: TenantContext) -> list[ProcedureKind]:
    """The kinds the city switched on (``procedures.enabled``), in menu order."""
    enabled = set(tenant.settings["procedures"]["enabled"])
    return [kind for kind in ordered() if kind.key in enabled]


def kind_for(tenant: TenantContext, key: str) -> ProcedureKind:
    """The enabled kind ``key`` of the city; ProcedureUnavailable for an unknown or disabled one."""
    kind = get_kind(key)
    if kind is None or key not in tenant.settings["procedures"]["enabled"]:
        raise ProcedureUnavailable(f"procedure kind {key!r} not enabled")
    return kind


def kind_label(key: str) -> str:
    """The Japanese name of a kind (the key itself for a kind no longer registered)."""
    kind = get_kind(key)
    return kind.label if kind is not None else key


def editable_payload(kind: ProcedureKind, payload: dict[str, Any]) -> dict[str, str]:
    """A stored payload as form values, for correcting it after 差戻し: sensitive fields are
    left empty (typed again, never sent back to the browser), everything else as text."""
    values: dict[str, str] = {}
    for key, value in payload.items():
        if key in kind.sensitive or value is None:
            continue
        values[key] = display_value(value)
    return values


def note_for(tenant: TenantContext, key: str) -> str:
    """The city's note for a kind (shown on its form and in its receipt mail), or ''."""
    return "\n\n".join(n["text"] for n in tenant.settings["procedures"]["notes"] if n["kind"] == key)


def member_contracts(member: Member) -> list[Contract]:
    """The contracts linked to ``member``, in link order."""
    return list(db.session.scalars(
        select(Contract)
        .join(MemberContract, MemberContract.contract_id == Contract.id)
        .where(MemberContract.member_id == member.id, Contract.tenant_id == member.tenant_id)
        .order_by(MemberContract.id)
    ))


# --- validation ---------------------------------------------------------------------------

def _clean(raw: Any) -> Any:
    if isinstance(raw, str):
        return without_controls(raw).strip()
    if isinstance(raw, list):
        return [_clean(v) for v in raw]
    return raw


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
    return out


def validate_payload(
    tenant: TenantContext,
    kind: ProcedureKind,
    raw: dict[str, Any],
    *,
    member: Member | None = None,
    contract: Contract | None = None,
    email: str = "",
    remote_addr: str = "",
    today: dt.date | None = None,
) -> tuple[dict[str, Any], Contract | None]:
    """The kind's payload from ``raw`` (form strings), cleaned and checked against the city's
    rules, and the contract it is about. Raises :class:`ProcedureInvalid` with the errors
    of every field at once (the schema's first, then the kind's ``check``)."""
    raw = {key: _clean(value) for key, value in dict(raw).items() if key in kind.schema().fields}
    today = today or dates.city_today(tenant)
    try:
        # Fields that need the city (a Day with ``window=True``) read it from the context.
        with Context(FieldContext(tenant=tenant, today=today)):
            data = kind.schema().load(raw)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise ProcedureInvalid({
            key: [m for m in (value if isinstance(value, list) else [str(value)]) if isinstance(m, str)] or [gettext("入力内容を確認してください。")]
            for key, value in messages.items()
        }) from exc
    ctx = KindContext(tenant=tenant, today=today, member=member, contract=contract,
                      email=email, remote_addr=remote_addr)
    if kind.check is not None:
        kind.check(ctx, data)
    if kind.needs_contract and ctx.contract is None:
        raise ProcedureInvalid({"_form": [gettext("お手続きの対象となるお客様番号を確認できませんでした。")]})
    return _jsonable(data), ctx.contract


def check_attachments(tenant: TenantContext, kind: ProcedureKind, uploads: Sequence[Upload],
                      already: int = 0) -> list[CheckedFile]:
    """The uploads checked by :mod:`.attachments` (type by content, size and count from the
    city's settings); ProcedureInvalid (``attachments``) with every refusal, each naming its limit.
    ``already``: files the request has (a resubmission needs no new file for a required one)."""
    uploads = [u for u in uploads if u.data or u.filename]
    if not uploads:
        if kind.attachments_required and not already:
            raise ProcedureInvalid({"attachments": [gettext("ファイルを添付してください(修理の領収書、修理箇所の写真など)。")]})
        return []
    if not kind.attachments:
        raise ProcedureInvalid({"attachments": [gettext("このお手続きにはファイルを添付できません。")]})
    try:
        return check_uploads(uploads, AttachmentLimits.of(tenant.settings["procedures"]))
    except AttachmentRefused as refused:
        raise ProcedureInvalid({"attachments": refused.messages}) from None


# --- filing -------------------------------------------------------------------------------

def allocate_receipt_number(tenant: TenantContext, year: int) -> str:
    """The next 受付番号 of the city in ``year`` (``R2026-000123``), race-safe: the counter
    row is incremented by an UPDATE, which holds its lock until the caller commits, so a
    concurrent submission waits and gets the next number. The first number of a year
    inserts the row in a savepoint; losing that race to another transaction just means
    incrementing the row it inserted."""
    increment = (
        update(ProcedureCounter)
        .where(ProcedureCounter.tenant_id == tenant.id, ProcedureCounter.year == year)
        .values(last_number=ProcedureCounter.last_number + 1)
        .execution_options(synchronize_session=False)
    )
    if (db.session.execute(increment).rowcount or 0) == 0:
        try:
            with db.session.begin_nested():
                db.session.add(ProcedureCounter(tenant_id=tenant.id, year=year, last_number=0))
        except IntegrityError:
            pass  # another submission created the year's row first
        db.session.execute(increment)
    number = db.session.scalar(
        select(ProcedureCounter.last_number).where(ProcedureCounter.tenant_id == tenant.id, ProcedureCounter.year == year)
    )
    return f"R{year}-{number:06d}"


def _fingerprint(kind: ProcedureKind, member: Member | None, email: str, contract: Contract | None,
                 data: dict[str, Any], uploads: Iterable[CheckedFile]) -> str:
    """A keyed hash (HMAC with SECRET_KEY: the payload may hold an account number, which a
    bare hash would let anyone with the table guess) of what makes two submissions the same."""
    material = json.dumps(
        [kind.key, member.id if member else None, email, contract.id if contract else None, data,
         sorted(u.sha256 for u in uploads)],
        sort_keys=True, ensure_ascii=False, default=str,
    )
    key = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def _recent_duplicate(tenant: TenantContext, fingerprint: str) -> ProcedureRequest | None:
    window = dt.timedelta(minutes=tenant.settings["procedures"]["duplicate_window_minutes"])
    return db.session.scalar(
        select(ProcedureRequest)
        .where(ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.fingerprint == fingerprint,
               ProcedureRequest.created_at >= utcnow_naive() - window,
               ProcedureRequest.status != STATUS_WITHDRAWN)
        .order_by(ProcedureRequest.id)
        .limit(1)
    )


def _seal(kind: ProcedureKind, data: dict[str, Any]) -> dict[str, Any]:
    sealed = dict(data)
    for key in kind.sensitive:
        if sealed.get(key):
            sealed[key] = encrypt_field(str(sealed[key]))
    return sealed


def _store_attachments(tenant: TenantContext, request: ProcedureRequest, checked: list[CheckedFile]) -> None:
    for upload in checked:
        db.session.add(ProcedureAttachment(
            tenant_id=tenant.id, request_id=request.id, filename=upload.filename, content_type=upload.content_type,
            size=upload.size, sha256=upload.sha256, data=upload.data, created_at=utcnow_naive(),
        ))


def _applicant(data: dict[str, Any], contract: Contract | None) -> tuple[str, str]:
    """Applicant name and kana: the payload's ``name``/``name_kana`` or the contract's holder."""
    name = str(data.get("name") or (contract.holder_name if contract else ""))[:100]
    kana = str(data.get("name_kana") or (contract.holder_name_kana if contract else ""))[:100]
    return name, kana


def submit_procedure(
    tenant: TenantContext,
    kind: ProcedureKind | str,
    payload: dict[str, Any],
    *,
    member: Member | None = None,
    contract: Contract | None = None,
    email: str | None = None,
    attachments: Sequence[Upload] = (),
    remote_addr: str = "",
    today: dt.date | None = None,
) -> ProcedureRequest:
    """File a procedure of ``kind`` in ``tenant`` and return it (flushed, not committed).

    ``member`` is the logged-in member (None for an applicant without an account, whose
    ``email`` the caller has verified with a code). ``contract`` is the linked contract
    the member chose (checked to be theirs). Raises :class:`ProcedureUnavailable`
    (kind not enabled, login needed) or :class:`ProcedureInvalid` (field errors).

    An identical submission (same kind, applicant, contract, payload and files) within
    ``procedures.duplicate_window_minutes`` returns the first request with
    ``duplicate = True``: nothing new is stored or mailed.
    """
    kind = kind_for(tenant, kind if isinstance(kind, str) else kind.key)
    if member is None and not kind.allows_anonymous:
        raise ProcedureUnavailable(f"{kind.key} needs a login")
    if contract is not None and (member is None or contract.id not in {c.id for c in member_contracts(member)}):
        raise ProcedureUnavailable("contract not linked to the member")
    email = normalise_email(member.email if member is not None else (email or ""))
    if not email:
        raise ProcedureInvalid({"email": [gettext("メールアドレスを確認できませんでした。")]})
    data, contract = validate_payload(tenant, kind, payload, member=member, contract=contract, email=email,
                                      remote_addr=remote_addr, today=today)
    checked = check_attachments(tenant, kind, attachments)
    fingerprint = _fingerprint(kind, member, email, contract, data, checked)
    # A double-clicked 申し込む sends two requests at once: the second waits for the first's
    # commit and then finds it, so one request is stored and one mail sent.
    one_at_a_time(f"procedure:{tenant.id}:{fingerprint}")
    first = _recent_duplicate(tenant, fingerprint)
    if first is not None:
        first.duplicate = True
        return first
    now = utcnow_naive()
    name, kana = _applicant(data, contract)
    request = ProcedureRequest(
        tenant_id=tenant.id, kind=kind.key,
        receipt_number=allocate_receipt_number(tenant, local_now(tenant.timezone).year),
        status=STATUS_RECEIVED, member_id=member.id if member else None,
        contract_id=contract.id if contract else None,
        customer_number=contract.customer_number if contract else "",
        applicant_email=email, applicant_name=name, applicant_kana=kana,
        payload=_seal(kind, data), fingerprint=fingerprint, created_at=now, updated_at=now,
    )
    db.session.add(request)
    db.session.flush()
    _store_attachments(tenant, request, checked)
    _event(tenant, request, STATUS_RECEIVED, "", ACTOR_APPLICANT, member.id if member else None)
    actor = f"member:{member.id}" if member else "anonymous"
    audit.record(actor, "procedure.submitted", target=f"procedure:{request.id}", remote_addr=remote_addr,
                 kind=kind.key, receipt_number=request.receipt_number)
    _mail_receipt(tenant, kind, request, member, resubmitted=False)
    log.info("procedure %s submitted (tenant=%s, kind=%s)", request.receipt_number, tenant.slug, kind.key)
    return request


def _event(tenant: TenantContext, request: ProcedureRequest, status: str, message: str,
           actor_kind: str, actor_id: int | None) -> ProcedureEvent:
    event = ProcedureEvent(tenant_id=tenant.id, request_id=request.id, status=status, message=message,
                           actor_kind=actor_kind, actor_id=actor_id, created_at=utcnow_naive())
    db.session.add(event)
    db.session.flush()
    return event


class _RenderedRows:
    """A request's summary rows, made when the mail's template reads them: in the mail's
    language (the member's), not the page's the request came from."""

    def __init__(self, tenant: TenantContext, request: ProcedureRequest):
        self.tenant, self.request = tenant, request

    def __iter__(self):
        return iter(summary(self.tenant, self.request))


def _mail_receipt(tenant: TenantContext, kind: ProcedureKind, request: ProcedureRequest, member: Member | None,
                  *, resubmitted: bool) -> None:
    queue_mail(
        tenant, request.applicant_email, "procedure_received",
        request=request, kind=kind, rows=_RenderedRows(tenant, request), note=note_for(tenant, kind.key),
        received_at=local_now(tenant.timezone), member=member, resubmitted=resubmitted,
        detail_url=portal_url(tenant, DETAIL_PATH.format(receipt=request.receipt_number)),
    )


def _recipient(request: ProcedureRequest) -> tuple[str, Member | None]:
    """Where the citizen's mail goes: the member's current address, else the applicant's."""
    member = db.session.get(Member, request.member_id) if request.member_id else None
    return (member.email if member else request.applicant_email), member


def _parse_actor(actor: str) -> tuple[str, int | None]:
    """``staff:3`` -> (staff, 3); ``vendor:2`` -> (vendor, 2); ``member:5`` -> (applicant, 5);
    ``applicant`` (no account) -> (applicant, None); anything else (``system:import``, ``cli``) -> (system, None)."""
    prefix, _, ident = actor.partition(":")
    number = int(ident) if ident.isdigit() else None
    kind = {"staff": ACTOR_STAFF, "vendor": ACTOR_VENDOR, "member": ACTOR_APPLICANT, "applicant": ACTOR_APPLICANT}.get(prefix)
    return (kind, number) if kind else (ACTOR_SYSTEM, None)


def change_status(
    tenant: TenantContext,
    request: ProcedureRequest,
    status: str,
    message: str,
    actor: str,
    *,
    remote_addr: str = "",
    notify: bool = True,
) -> ProcedureEvent:
    """Move ``request`` to ``status`` with the city's ``message`` (required for 差戻し: the
    citizen must know what to correct), record the event, audit it and mail the citizen.

    ``actor`` is the audit log's name: ``staff:3``, ``vendor:2``, ``member:5`` (the
    citizen withdrawing), ``system:import-status``. Raises :class:`ProcedureStateError`
    for a change the current status does not allow, ProcedureInvalid for a 差戻し without
    a message."""
    if request.tenant_id != tenant.id:
        raise ValueError("procedure of another city")
    if status not in TRANSITIONS.get(request.status, frozenset()):
        raise ProcedureStateError(f"{request.status} -> {status} not allowed")
    message = without_controls(message or "").strip()
    if status == STATUS_RETURNED and not message:
        raise ProcedureInvalid({"message": ["差戻しの理由(お客さまへのご案内)を入力してください。"]})
    previous = request.status
    request.status, request.updated_at = status, utcnow_naive()
    actor_kind, actor_id = _parse_actor(actor)
    event = _event(tenant, request, status, message, actor_kind, actor_id)
    audit.record(actor, "procedure.status", target=f"procedure:{request.id}", remote_addr=remote_addr,
                 receipt_number=request.receipt_number, before=previous, after=status)
    if notify:
        to_address, member = _recipient(request)
        kind = get_kind(request.kind)
        queue_mail(
            tenant, to_address, "procedure_status", request=request, event=event, member=member,
            kind_label=kind.label if kind else request.kind,
            detail_url=portal_url(tenant, DETAIL_PATH.format(receipt=request.receipt_number)),
        )
    return event


def withdraw(tenant: TenantContext, request: ProcedureRequest, member: Member | None, *, email: str = "",
             remote_addr: str = "") -> ProcedureEvent:
    """The citizen takes back an open request (取下げ): the member who filed it, or, for a
    request filed without an account, whoever verified the address it was filed from."""
    if member is not None:
        if request.member_id != member.id:
            raise ProcedureUnavailable("not the member's request")
        actor = f"member:{member.id}"
    elif request.member_id is not None or not email or normalise_email(email) != request.applicant_email:
        raise ProcedureUnavailable("not the applicant's request")
    else:
        actor = "applicant"
    return change_status(tenant, request, STATUS_WITHDRAWN, "", actor, remote_addr=remote_addr)


def resubmit(
    tenant: TenantContext,
    request: ProcedureRequest,
    payload: dict[str, Any],
    *,
    member: Member | None = None,
    attachments: Sequence[Upload] = (),
    message: str = "",
    remote_addr: str = "",
    today: dt.date | None = None,
) -> ProcedureRequest:
    """The citizen answers a 差戻し: the corrected payload replaces the old one (validated
    again, as at filing), new files are added, the request is 受付 again, and the citizen
    gets a receipt mail. ``member`` must be the request's member (None only for a request
    filed without an account, for staff or the CLI acting on the applicant's answer)."""
    if request.tenant_id != tenant.id:
        raise ValueError("procedure of another city")
    if request.status != STATUS_RETURNED:
        raise ProcedureStateError(f"resubmit from {request.status}")
    if request.member_id is not None and (member is None or member.id != request.member_id):
        raise ProcedureUnavailable("not the member's request")
    kind = get_kind(request.kind)
    if kind is None:
        raise ProcedureUnavailable(f"unknown kind {request.kind!r}")
    contract = db.session.get(Contract, request.contract_id) if request.contract_id else None
    data, contract = validate_payload(tenant, kind, payload, member=member, contract=contract,
                                      email=request.applicant_email, remote_addr=remote_addr, today=today)
    checked = check_attachments(tenant, kind, attachments, already=len(attachments_of(tenant, request)))
    name, kana = _applicant(data, contract)
    request.payload = _seal(kind, data)
    request.contract_id = contract.id if contract else None
    request.customer_number = contract.customer_number if contract else request.customer_number
    request.applicant_name, request.applicant_kana = name, kana
    request.fingerprint = _fingerprint(kind, member, request.applicant_email, contract, data, checked)
    request.status, request.updated_at = STATUS_RECEIVED, utcnow_naive()
    # A corrected request goes to the billing system again.
    request.exported_at, request.export_batch = None, None
    _store_attachments(tenant, request, checked)
    _event(tenant, request, STATUS_RECEIVED, without_controls(message or "").strip()[:2000] or "再提出",
           ACTOR_APPLICANT, member.id if member else None)
    audit.record(f"member:{member.id}" if member else "anonymous", "procedure.resubmitted",
                 target=f"procedure:{request.id}", remote_addr=remote_addr, receipt_number=request.receipt_number)
    _mail_receipt(tenant, kind, request, member, resubmitted=True)
    return request


def assign(tenant: TenantContext, request: ProcedureRequest, staff_id: int | None, actor: str,
           *, remote_addr: str = "") -> None:
    """Give ``request`` to the staff member ``staff_id`` of the city (None: nobody), audited.
    The composite foreign key refuses a staff member of another city."""
    if request.tenant_id != tenant.id:
        raise ValueError("procedure of another city")
    before = request.assignee_id
    request.assignee_id, request.updated_at = staff_id, utcnow_naive()
    db.session.flush()
    audit.record(actor, "procedure.assigned", target=f"procedure:{request.id}", remote_addr=remote_addr,
                 receipt_number=request.receipt_number, before=before, after=staff_id)


# --- reading ------------------------------------------------------------------------------

def list_for_member(tenant: TenantContext, member: Member) -> Sequence[ProcedureRequest]:
    """The member's requests, newest first."""
    return db.session.scalars(
        select(ProcedureRequest)
        .where(ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.member_id == member.id)
        .order_by(ProcedureRequest.id.desc())
    ).all()


def get_by_receipt(tenant: TenantContext, receipt_number: str) -> ProcedureRequest | None:
    """The city's request with this 受付番号 (None for another city's or an unknown one)."""
    return db.session.scalar(
        select(ProcedureRequest).where(ProcedureRequest.tenant_id == tenant.id,
                                       ProcedureRequest.receipt_number == (receipt_number or "")[:20])
    )


def get_for_member(tenant: TenantContext, member: Member, receipt_number: str) -> ProcedureRequest | None:
    """The member's own request with this 受付番号 (None for anyone else's)."""
    request = get_by_receipt(tenant, receipt_number)
    return request if request is not None and request.member_id == member.id else None


def _rows_of(model: type[ProcedureEvent] | type[ProcedureAttachment], tenant: TenantContext,
             request: ProcedureRequest) -> Sequence[Any]:
    return db.session.scalars(
        select(model).where(model.tenant_id == tenant.id, model.request_id == request.id).order_by(model.id)
    ).all()


def get_for_applicant(tenant: TenantContext, email: str, receipt_number: str) -> ProcedureRequest | None:
    """A request filed without an account from ``email`` (verified by the caller), else None."""
    request = get_by_receipt(tenant, receipt_number)
    if request is None or request.member_id is not None or not email:
        return None
    return request if hmac.compare_digest(request.applicant_email, normalise_email(email)) else None


def history(tenant: TenantContext, request: ProcedureRequest) -> Sequence[ProcedureEvent]:
    """The request's events, oldest first."""
    return _rows_of(ProcedureEvent, tenant, request)


def attachments_of(tenant: TenantContext, request: ProcedureRequest) -> Sequence[ProcedureAttachment]:
    """The request's files, oldest first (without their bytes: ``data`` is deferred)."""
    return _rows_of(ProcedureAttachment, tenant, request)


def get_attachment(tenant: TenantContext, request: ProcedureRequest, attachment_id: int) -> ProcedureAttachment | None:
    """One file of ``request`` (None when the id belongs to another request or city). The
    caller has checked that the viewer is the request's member or the city's staff."""
    return db.session.scalar(
        select(ProcedureAttachment).where(ProcedureAttachment.tenant_id == tenant.id,
                                          ProcedureAttachment.request_id == request.id,
                                          ProcedureAttachment.id == attachment_id)
    )


def detach_member(tenant: TenantContext, member_id: int) -> int:
    """Forget which member filed the city's requests (withdrawal): the requests stay with
    the city (the billing system may still need them), their mail goes to the applicant's
    address as filed."""
    result = db.session.execute(
        update(ProcedureRequest)
        .where(ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.member_id == member_id)
        .values(member_id=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
