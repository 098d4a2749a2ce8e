"""各種お手続き (every staff member: operators process, admins also configure the kinds in 設定):
the city's queue of procedure requests, oldest first, filtered by 種類, 状態, 受付日, 受付番号
and お客様番号; one request with its payload (sensitive fields masked), its files and its
status history; a status change with the message the citizen is mailed (差戻し needs one);
the assignment to a staff member; the CSV for the billing system; and (admins, like 取り込み)
the upload of the billing system's answer, the same service as ``flask procedures
import-status``.

Every write goes through ``procedures.services`` (``change_status``, ``assign``) or
``procedures.export``, which audit it; a file download is audited here.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from waterportal.admin.blueprint import admin, page_arg, render
from waterportal.admin.models import StaffMember
from waterportal.admin.procedure_forms import AssignForm, ExportForm, ProcedureFilterForm, StatusChangeForm
from waterportal.admin.sessions import staff_required
from waterportal.admin.uploads import UploadRefused, check_upload
from waterportal.audit import services as audit
from waterportal.core.files import private_download, safe_filename
from waterportal.core.forms import ConsoleForm
from waterportal.core.text import digits_only
from waterportal.core.time import city_midnight_utc
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.imports.procedure_status import import_status
from waterportal.procedures import export as exporting
from waterportal.procedures import services
from waterportal.procedures.kinds import get_kind, ordered
from waterportal.procedures.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    ProcedureRequest,
)
from waterportal.tenancy.context import current_tenant

PAGE_SIZE = 30
NOBODY = ""
ERRORS_SHOWN = 1000


class AnswerUploadForm(ConsoleForm):
    """料金システムからの回答: one CSV (size and content checked in admin.uploads)."""

    file = FileField("回答ファイル(CSV)")

    def validate_file(self, field) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError("ファイルを選択してください。")


def _request_or_404(request_id: int) -> ProcedureRequest:
    found = db.session.scalar(select(ProcedureRequest).where(
        ProcedureRequest.tenant_id == current_tenant().id, ProcedureRequest.id == request_id))
    if found is None:
        abort(404)
    return found


def _staff_names() -> dict[int, str]:
    """Staff id -> name (or email) of the city, for the queue's 担当 column (one query)."""
    return {s.id: s.name or s.email for s in db.session.scalars(select(StaffMember))}


def _filter_form() -> ProcedureFilterForm:
    form = ProcedureFilterForm(request.args)
    if not form.validate():
        # A bad filter is shown next to its field and ignored, never half-applied.
        for name in form.errors:
            form[name].data = form[name].default or ""
    return form


def queue_query(form: ProcedureFilterForm, tz_name: str):
    """The city's requests matching the filters, oldest first (one statement)."""
    query = select(ProcedureRequest).where(ProcedureRequest.tenant_id == current_tenant().id)
    if form.kind.data:
        query = query.where(ProcedureRequest.kind == form.kind.data)
    if form.status.data == "open":
        query = query.where(ProcedureRequest.status.in_(OPEN_STATUSES))
    elif form.status.data:
        query = query.where(ProcedureRequest.status == form.status.data)
    if form.assignee.data == "me":
        query = query.where(ProcedureRequest.assignee_id == g.staff.id)
    elif form.assignee.data == "none":
        query = query.where(ProcedureRequest.assignee_id.is_(None))
    if form.start:
        query = query.where(ProcedureRequest.created_at >= city_midnight_utc(form.start, tz_name))
    if form.end:
        query = query.where(ProcedureRequest.created_at < city_midnight_utc(form.end + dt.timedelta(days=1), tz_name))
    receipt = (form.receipt_number.data or "").strip().upper()
    if receipt:
        query = query.where(ProcedureRequest.receipt_number.contains(receipt, autoescape=True))
    number = digits_only(form.customer_number.data or "")
    if number:
        query = query.where(ProcedureRequest.customer_number == number)
    return query.order_by(ProcedureRequest.created_at, ProcedureRequest.id)


@admin.get("/procedures")
@staff_required()
def procedures():
    """各種お手続き: the queue, oldest first, 30 a page."""
    tenant = current_tenant()
    form = _filter_form()
    page = page_arg()
    query = queue_query(form, tenant.timezone)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {name: form[name].data for name in ("kind", "status", "assignee", "date_from", "date_to",
                                               "receipt_number", "customer_number") if form[name].data}
    labels = {kind.key: kind.label for kind in ordered()}
    return render("procedures.html", title="各種お手続き", form=form, items=rows, total=total, page=page,
                  pages=max(1, -(-total // PAGE_SIZE)), args=args, labels=labels, names=_staff_names())


def _detail(item: ProcedureRequest, status_form: StatusChangeForm | None = None,
            assign_form: AssignForm | None = None, code: int = 200):
    tenant = current_tenant()
    kind = get_kind(item.kind)
    staff = db.session.scalars(select(StaffMember).where(StaffMember.disabled.is_(False))
                               .order_by(StaffMember.name, StaffMember.id)).all()
    status_form = status_form or StatusChangeForm(formdata=None)
    status_form.status.choices = [(s, STATUS_LABELS[s]) for s in STATUS_LABELS if s in TRANSITIONS.get(item.status, ())]
    assign_form = assign_form or AssignForm(formdata=None, assignee=str(item.assignee_id or NOBODY))
    assign_form.assignee.choices = [(NOBODY, "(未定)")] + [(str(s.id), s.name or s.email) for s in staff]
    return render(
        "procedure.html", title=f"各種お手続き {item.receipt_number}", item=item,
        kind_label=kind.label if kind else item.kind, rows=services.summary(tenant, item),
        events=services.history(tenant, item), files=services.attachments_of(tenant, item),
        status_form=status_form, assign_form=assign_form, names=_staff_names(),
    ), code


@admin.get("/procedures/<int:request_id>")
@staff_required()
def procedure_detail(request_id: int):
    """One request: what the citizen filed (sensitive fields masked), files, history, actions."""
    return _detail(_request_or_404(request_id))


@admin.post("/procedures/<int:request_id>/status")
@staff_required()
def procedure_status(request_id: int):
    """Change the status with a message to the citizen (mailed; 差戻し needs one)."""
    item = _request_or_404(request_id)
    form = StatusChangeForm()
    allowed = TRANSITIONS.get(item.status, frozenset())
    if form.validate() and form.status.data not in allowed:
        form.status.errors.append(f"「{item.status_label}」の申請は「{STATUS_LABELS[form.status.data]}」にできません。")
    if form.errors:
        return _detail(item, status_form=form)
    try:
        services.change_status(current_tenant(), item, form.status.data, form.message.data or "", g.staff.actor,
                               remote_addr=client_address())
    except services.ProcedureInvalid as exc:  # the service's own rules (a 差戻し without a message)
        db.session.rollback()
        form.message.errors = list(exc.errors.get("message") or exc.errors.get("_form") or ["入力内容を確認してください。"])
        return _detail(_request_or_404(request_id), status_form=form)
    except services.ProcedureStateError:  # changed by someone else meanwhile
        db.session.rollback()
        form.status.errors = ["この申請の状態は変更されています。画面を確認してからもう一度操作してください。"]
        return _detail(_request_or_404(request_id), status_form=form)
    db.session.commit()
    flash(f"{item.receipt_number} を「{item.status_label}」にしました。お客さまにメールでお知らせします。", "info")
    return redirect(url_for("admin.procedure_detail", request_id=item.id))


@admin.post("/procedures/<int:request_id>/assign")
@staff_required()
def procedure_assign(request_id: int):
    """Give the request to a staff member of the city (or to nobody)."""
    item = _request_or_404(request_id)
    form = AssignForm()
    choice = form.assignee.data or NOBODY
    staff_id = int(choice) if choice.isdigit() and len(choice) < 10 else None
    active = staff_id is not None and db.session.scalar(select(StaffMember.id).where(
        StaffMember.tenant_id == current_tenant().id, StaffMember.id == staff_id, StaffMember.disabled.is_(False)))
    if not form.validate() or (choice != NOBODY and not active):
        if not form.errors:
            form.assignee.errors = ["担当者を一覧から選択してください。"]
        return _detail(item, assign_form=form)
    if item.assignee_id != staff_id:
        services.assign(current_tenant(), item, staff_id, g.staff.actor, remote_addr=client_address())
        db.session.commit()
    who = _staff_names().get(staff_id, "") if staff_id else "未定"
    flash(f"{item.receipt_number} の担当者を「{who}」にしました。", "info")
    return redirect(url_for("admin.procedure_detail", request_id=item.id))


@admin.get("/procedures/<int:request_id>/files/<int:attachment_id>")
@staff_required()
def procedure_file(request_id: int, attachment_id: int):
    """A file of the request, as a download (never inline), audited."""
    tenant = current_tenant()
    item = _request_or_404(request_id)
    attachment = services.get_attachment(tenant, item, attachment_id)
    if attachment is None:
        abort(404)
    audit.record(g.staff.actor, "procedure.file_downloaded", target=f"procedure:{item.id}",
                 remote_addr=client_address(), receipt_number=item.receipt_number, attachment_id=attachment.id)
    db.session.commit()
    return private_download(attachment.data, attachment.filename, attachment.content_type)


@admin.route("/procedures/export", methods=["GET", "POST"])
@staff_required()
def procedure_export():
    """料金システムへの出力: the CSV of one kind (new requests in 処理中, or a range again)."""
    tenant = current_tenant()
    form = ExportForm()
    if form.validate_on_submit():
        result = exporting.export_requests(
            tenant, form.kind.data, actor=g.staff.actor, since=form.start, until=form.end,
            again=form.again.data == "again", remote_addr=client_address(),
        )
        db.session.commit()
        return private_download(result.body, result.filename, f"text/csv; charset={result.encoding}")
    counts = dict(db.session.execute(
        select(ProcedureRequest.kind, func.count()).where(
            ProcedureRequest.tenant_id == tenant.id, ProcedureRequest.status.in_(exporting.EXPORTABLE),
            ProcedureRequest.exported_at.is_(None),
        ).group_by(ProcedureRequest.kind)
    ).all())
    kinds = [(kind, counts.get(kind.key, 0), exporting.header(kind)) for kind in ordered()]
    return render("procedures_export.html", title="料金システムへの出力", form=form, kinds=kinds,
                  encoding=tenant.settings["procedures"]["export_encoding"])


@admin.route("/procedures/answer", methods=["GET", "POST"])
@staff_required("admin")
def procedure_answer():
    """料金システムからの回答の取り込み: all or nothing, every problem with its line."""
    tenant = current_tenant()
    form = AnswerUploadForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            check_upload("procedure_status", data)
        except UploadRefused as exc:
            form.file.errors = [str(exc)]
        else:
            result = import_status(tenant, data, filename=safe_filename(upload.filename, "answer.csv"),
                                   remote_addr=client_address(), uploaded_by=g.staff.actor)
            db.session.commit()  # a rejected file commits its audit entry only
    return render("procedures_answer.html", title="料金システムからの回答", form=form, result=result,
                  errors_shown=ERRORS_SHOWN)
