"""Blueprint ``procedures``: the citizen's side of 各種お手続き.

``/procedures/`` lists what the city offers and, for a member, their requests;
``/procedures/new/<kind>`` is one generic form page rendering the kind's fields
(anonymous kinds first verify the email address with a 6-digit code);
``/procedures/receipt`` shows the 受付番号 once filed; ``/procedures/<receipt_number>`` is
a member's request with its status history and, after 差戻し, the form to resubmit.
Every page of this blueprint sends ``Cache-Control: no-store`` (pipeline.PRIVATE_BLUEPRINTS).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from waterportal.accounts.registration.forms import EMAIL
from waterportal.accounts.verification import ResendTooSoon, message_for, resend_message
from waterportal.core.files import private_download
from waterportal.core.text import normalise_email
from waterportal.core.time import utcnow_naive
from waterportal.core.web import client_address, throttled_response
from waterportal.extensions import db
from waterportal.procedures import applicants, dates, services
from waterportal.procedures.attachments import AttachmentLimits, Upload, read_uploads
from waterportal.procedures.blueprint import procedures
from waterportal.procedures.kinds import ProcedureInvalid, ProcedureKind, get_kind
from waterportal.procedures.services import ProcedureStateError, ProcedureUnavailable
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.templating import city_template, render_page

TITLE = _l("各種お手続き")
APPLICANT_KEY = "procedure_applicant"
RECEIPT_KEY = "procedure_receipt"
MAX_VALUE = 2000  # no form value is longer; a longer one is cut before validation


def _member():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _kind_or_404(tenant: TenantContext, key: str) -> ProcedureKind:
    try:
        return services.kind_for(tenant, key)
    except ProcedureUnavailable:
        abort(404)


def _form_values() -> dict[str, Any]:
    """What was typed (strings, cut at :data:`MAX_VALUE`): what the service validates and
    what the form shows again on an error."""
    return {key: value[:MAX_VALUE] for key, value in request.form.items() if key != "csrf_token"}


def _uploads(tenant: TenantContext) -> list[Upload]:
    return read_uploads(request.files.getlist("attachments"), AttachmentLimits.of(tenant.settings["procedures"]))


# --- the applicant's verified address (no account) -------------------------------------

def _verified_email() -> str:
    """The address this browser verified for procedures (within VERIFIED_MINUTES), or ''."""
    state = session.get(APPLICANT_KEY) or {}
    at = state.get("verified_at")
    if not at or not state.get("email"):
        return ""
    try:
        verified = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return ""
    if utcnow_naive() - verified > dt.timedelta(minutes=applicants.VERIFIED_MINUTES):
        return ""
    return state["email"]


def _applicant_state() -> dict[str, Any]:
    state = dict(session.get(APPLICANT_KEY) or {})
    if not state.get("subject"):
        state["subject"] = applicants.new_subject()
    return state


def _verify_page(heading: str, target: str, state: dict[str, Any], errors: dict[str, list[str]],
                 values: dict[str, str], status: int = 200, wait: int = 0):
    body = render_page("procedures/verify.html", title=heading, heading=heading, target=target, state=state,
                       errors=errors, values=values, ttl=current_tenant().settings["registration"]["code_ttl_minutes"],
                       following="/new/" not in target)
    if wait:
        return throttled_response(body, wait)
    return body, status


def _verify_step(tenant: TenantContext, heading: str, target: str):
    """The email step of an applicant without an account (filing an anonymous kind, or
    following a request filed that way): send a code, then check it; back to ``target``."""
    state = _applicant_state()
    errors: dict[str, list[str]] = {}
    values = {"email": state.get("email", "")}
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "send":
            email = (request.form.get("email") or "")[:254].strip()
            values["email"] = email
            problem = _email_problem(email)
            if problem:
                errors["email"] = [problem]
                return _verify_page(heading, target, state, errors, values, 422)
            try:
                state["email"] = applicants.send_code(tenant, email, state["subject"], remote_addr=client_address())
            except ResendTooSoon as exc:
                db.session.rollback()
                errors["email"] = [resend_message(exc.seconds)]
                return _verify_page(heading, target, state, errors, values, wait=exc.seconds)
            state.pop("verified_at", None)
            session[APPLICANT_KEY] = state
            db.session.commit()
            flash(gettext("%(email)s 宛に認証コードを送信しました。", email=state["email"]), "info")
            return redirect(target)
        if action == "verify" and state.get("email"):
            result = applicants.verify_code(tenant, state["email"], state["subject"], request.form.get("code", "")[:40])
            db.session.commit()
            if result.ok:
                state["verified_at"] = utcnow_naive().isoformat()
                session[APPLICANT_KEY] = state
                return redirect(target)
            errors["code"] = [message_for(result, tenant.settings["registration"]["code_ttl_minutes"])]
            return _verify_page(heading, target, state, errors, values, 422)
        errors["email"] = [gettext("メールアドレスを入力して「認証コードを送信」を押してください。")]
        return _verify_page(heading, target, state, errors, values, 422)
    session[APPLICANT_KEY] = state
    return _verify_page(heading, target, state, errors, values)


def _email_problem(email: str) -> str:
    """Registration's rule for an address, as a message ('' when fine)."""
    if not email:
        return gettext("メールアドレスを入力してください。")
    value = normalise_email(email)
    if len(value) > 254 or not EMAIL.match(value):
        return gettext("メールアドレスの形式が正しくありません(例: suido@example.jp)。")
    return ""


# --- pages ---------------------------------------------------------------------------------

@procedures.get("/")
def index():
    """The procedures the city offers; a member's own requests with their status."""
    tenant = current_tenant()
    member = _member()
    kinds = services.enabled_kinds(tenant)
    if not kinds and member is None:
        abort(404)
    requests = services.list_for_member(tenant, member) if member is not None else []
    return render_page("procedures/index.html", title=TITLE, kinds=kinds, requests=requests, member=member,
                       kind_label=services.kind_label)


def _kind_page(tenant: TenantContext, name: str, kind: ProcedureKind | None, **context: Any) -> str:
    """A page that renders a kind's fields: the field macros, the kind's template, the
    date window and the city's limits go with it."""
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render_page(
        name, kind=kind, labels=dict(kind.labelled_fields()) if kind else {},
        choices={key: f.metadata["choices"] for key, f in kind.schema().fields.items() if f.metadata.get("choices")}
        if kind else {},
        fields_macros=city_template(tenant, "procedures/_fields.html"),
        kind_template=city_template(tenant, kind.form_template) if kind else None,
        window=dates.date_window(tenant), limits=tenant.settings["procedures"],
        attachment_hint=AttachmentLimits.of(tenant.settings["procedures"]).hint(), **context,
    )


def _form_page(tenant: TenantContext, kind: ProcedureKind, member, values: dict[str, Any],
               errors: dict[str, list[str]], *, status: int = 200):
    contracts = services.member_contracts(member) if member is not None and kind.needs_contract else []
    body = _kind_page(
        tenant, "procedures/form.html", kind, title=gettext(kind.label), member=member, values=values, errors=errors,
        contracts=contracts, contracts_choices=[(str(c.id), f"{c.customer_number}({c.address})") for c in contracts],
        note=services.note_for(tenant, kind.key), email=member.email if member is not None else _verified_email(),
        resubmitting=None,
    )
    return body, status


def _chosen_contract(member, contracts_needed: bool):
    """The linked contract chosen on the form (None when not needed or not one of the member's)."""
    if member is None or not contracts_needed:
        return None
    wanted = request.form.get("contract_id", "")
    for contract in services.member_contracts(member):
        if str(contract.id) == wanted:
            return contract
    return None


@procedures.route("/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    """The kind's form; a valid POST files the procedure and shows its 受付番号."""
    tenant = current_tenant()
    procedure = _kind_or_404(tenant, kind)
    member = _member()
    if member is None and procedure.needs_login:
        flash(gettext("このお手続きは、ログインしてからお申込みください。"), "info")
        return redirect(url_for("accounts.login", next=request.path))
    if member is None and not _verified_email():
        return _verify_step(tenant, gettext(procedure.label), url_for(".new", kind=procedure.key))
    if request.method == "GET":
        # A link may preselect choices (the contract, 口座振替 from registration's 「支払方法」),
        # never typed values: a crafted link must not fill in an address or an account.
        fields = procedure.schema().fields
        given = {key: value[:MAX_VALUE] for key, value in request.args.items()
                 if key == "contract_id" or (key in fields and "choices" in fields[key].metadata)}
        return _form_page(tenant, procedure, member, given, {})
    values = _form_values()
    contract = _chosen_contract(member, procedure.needs_contract)
    if member is not None and procedure.needs_contract and contract is None and (
            procedure.needs_login or services.member_contracts(member)):
        # A member picks one of their contracts; one without any may still identify a contract
        # by お客様番号 where the kind allows it (使用中止).
        return _form_page(tenant, procedure, member, values, {"contract_id": [gettext("お手続きするお客様番号を選んでください。")]},
                          status=422)
    try:
        filed = services.submit_procedure(
            tenant, procedure, values, member=member, contract=contract,
            email=None if member is not None else _verified_email(), attachments=_uploads(tenant),
            remote_addr=client_address(),
        )
    except ProcedureInvalid as exc:
        db.session.commit()  # matching attempts and throttle hits count even when refused
        return _form_page(tenant, procedure, member, values, exc.errors, status=422)
    db.session.commit()
    session[RECEIPT_KEY] = filed.receipt_number
    if filed.duplicate:
        flash(gettext("同じ内容のお申込みを受付済みです。受付番号をご確認ください。"), "info")
    return redirect(url_for(".receipt"))


@procedures.get("/receipt")
def receipt():
    """受付完了: the 受付番号, a summary and what happens next (for this browser's last filing).

    Only while the filer is still who filed it (the member, or the verified address within its
    minutes): on a shared computer the next person does not see the last filing."""
    tenant = current_tenant()
    number = session.get(RECEIPT_KEY)
    filed = _own_request(number)[1] if number else None
    if filed is None:
        return redirect(url_for(".index"))
    kind = services.kind_label(filed.kind)
    return render_page("procedures/receipt.html", title=gettext("お申込みを受け付けました"), filed=filed, kind_label=kind,
                       rows=services.summary(tenant, filed), note=services.note_for(tenant, filed.kind), member=_member(),
                       fields_macros=city_template(tenant, "procedures/_fields.html"), values={}, errors={}, labels={})


def _own_request(receipt_number: str):
    """``(member, request)``: a member's own request, or, for a browser that verified an
    address, a request filed without an account from that address (None for anyone else's)."""
    tenant = current_tenant()
    member = _member()
    if member is not None:
        return member, services.get_for_member(tenant, member, receipt_number)
    email = _verified_email()
    return None, services.get_for_applicant(tenant, email, receipt_number) if email else None


def _follow_verify(receipt_number: str):
    """A visitor following a request: prove the address it was filed from first."""
    return _verify_step(current_tenant(), gettext("お申込みの状況の確認"), url_for(".detail", receipt_number=receipt_number))


@procedures.route("/<receipt_number>", methods=["GET", "POST"])
def detail(receipt_number: str):
    """A member's request: summary, status history, files; after 差戻し, the form to resubmit."""
    tenant = current_tenant()
    if _member() is None and (not _verified_email() or request.form.get("action") in ("send", "verify")):
        return _follow_verify(receipt_number)
    member, filed = _own_request(receipt_number)
    if filed is None:
        abort(404)
    kind = get_kind(filed.kind)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if kind is None:
            abort(404)
        values = _form_values()
        try:
            services.resubmit(tenant, filed, values, member=member, attachments=_uploads(tenant),
                              message=values.get("resubmit_message", ""), remote_addr=client_address())
        except ProcedureInvalid as exc:
            db.session.commit()
            errors, status = exc.errors, 422
        except ProcedureStateError:
            db.session.rollback()
            flash(gettext("このお申込みは現在、再提出できません。"), "error")
            return redirect(url_for(".detail", receipt_number=filed.receipt_number))
        else:
            db.session.commit()
            flash(gettext("再提出を受け付けました。"), "info")
            return redirect(url_for(".detail", receipt_number=filed.receipt_number))
    elif filed.status == "returned" and kind is not None:
        values = services.editable_payload(kind, filed.payload or {})
    return _kind_page(
        tenant, "procedures/detail.html", kind, title=gettext("受付番号 %(number)s", number=filed.receipt_number), filed=filed, member=member,
        kind_label=services.kind_label(filed.kind), rows=services.summary(tenant, filed),
        events=services.history(tenant, filed), files=services.attachments_of(tenant, filed), values=values,
        errors=errors, contracts=[], resubmitting=filed,
    ), status


@procedures.post("/<receipt_number>/withdraw")
def withdraw(receipt_number: str):
    """The member takes back an open request (取下げ)."""
    tenant = current_tenant()
    member, filed = _own_request(receipt_number)
    if filed is None:
        abort(404)
    try:
        services.withdraw(tenant, filed, member, email=_verified_email(), remote_addr=client_address())
    except ProcedureStateError:
        db.session.rollback()
        flash(gettext("このお申込みは取り下げできません。"), "error")
    else:
        db.session.commit()
        flash(gettext("お申込みを取り下げました。"), "info")
    return redirect(url_for(".detail", receipt_number=filed.receipt_number))


@procedures.get("/<receipt_number>/files/<int:attachment_id>")
def attachment(receipt_number: str, attachment_id: int):
    """A file of the member's own request (never another member's or another city's)."""
    tenant = current_tenant()
    _, filed = _own_request(receipt_number)
    if filed is None:
        abort(404)
    found = services.get_attachment(tenant, filed, attachment_id)
    if found is None:
        abort(404)
    return private_download(found.data, found.filename, found.content_type)


@procedures.post("/start-over")
def start_over():
    """Forget this browser's verified address (to use another one)."""
    session.pop(APPLICANT_KEY, None)
    return redirect(url_for(".index"))

