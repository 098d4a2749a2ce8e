"""取り込み (admins only): upload a contracts / bills / documents export, see the result with
its per-line errors, and the history of every batch (console, CLI and demo alike).

The upload runs in the request (a 100,000-row bills file takes a few seconds, see
docs/admin.md); the page shows 「処理中」 while it does. Nothing here queues jobs.
"""
from __future__ import annotations

from flask import abort, current_app, g, make_response, render_template
from sqlalchemy import func, select

from waterportal.admin.audit_views import actor_names
from waterportal.admin.blueprint import admin, page_arg, render
from waterportal.admin.members.forms import ImportUploadForm
from waterportal.admin.sessions import staff_required
from waterportal.admin.uploads import (
    CSV_MAX_BYTES,
    ZIP_MAX_BYTES,
    UploadRefused,
    import_upload,
)
from waterportal.billing.notify import recent_bill_mail
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.tenancy.context import current_tenant

PAGE_SIZE = 20
ERRORS_SHOWN = 1000
KIND_LABELS = {"contracts": "契約", "bills": "請求・検針", "readings": "日ごとの使用量", "documents": "書類"}
STATUS_LABELS = {"ok": "取り込み完了", "rejected": "取り込み不可(変更なし)", "running": "処理中"}


def _history(page: int) -> tuple[list[ImportBatch], int]:
    total = db.session.scalar(select(func.count(ImportBatch.id))) or 0
    batches = db.session.scalars(
        select(ImportBatch).order_by(ImportBatch.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(batches), total


def _page(form: ImportUploadForm, status: int = 200, result=None):
    page = page_arg()
    batches, total = _history(page)
    body = render(
        "imports.html", title="データの取り込み", form=form, result=result, batches=batches, total=total,
        page=page, pages=max(1, -(-total // PAGE_SIZE)), names=actor_names(), kinds=KIND_LABELS,
        statuses=STATUS_LABELS, limits={"csv": CSV_MAX_BYTES // 2**20, "zip": ZIP_MAX_BYTES // 2**20},
        errors_shown=ERRORS_SHOWN, bill_mail=recent_bill_mail(),
    )
    return make_response(body, status)


@admin.route("/imports", methods=["GET", "POST"])
@staff_required("admin")
def imports():
    """The upload form, the result of the upload just made, and the history of batches."""
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _page(form)
    upload = form.file.data
    try:
        result = import_upload(current_tenant(), form.kind.data, upload.filename, upload.read(), g.staff.actor, client_address())
    except UploadRefused as exc:
        db.session.rollback()
        form.file.errors = [str(exc)]
        return _page(form)
    db.session.commit()  # a rejected file commits its ImportBatch (and audit entry) only
    return _page(ImportUploadForm(formdata=None), 200, result=result)


@admin.get("/imports/<int:batch_id>")
@staff_required("admin")
def import_batch(batch_id: int):
    """One batch: who, when, the file, counts and the errors it kept."""
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.tenant_id == current_tenant().id, ImportBatch.id == batch_id))
    if batch is None:
        abort(404)
    return render("import_batch.html", title=f"取り込み No.{batch.id}", batch=batch, names=actor_names(),
                  kinds=KIND_LABELS, statuses=STATUS_LABELS)


@admin.errorhandler(413)
def upload_too_large(_exc):
    """A request over MAX_CONTENT_LENGTH is refused before any view runs: say what the limit is."""
    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 2**20
    return make_response(render_template("admin/too_large.html", limit=limit), 413)

