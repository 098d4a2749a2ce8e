"""設定 (admins only): one page per settings group, login-page preview, history and rollback."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import abort, flash, g, redirect, request, url_for

from waterportal.accounts.forms import LoginForm
from waterportal.accounts.views import login_notice
from waterportal.admin.assets import AssetRefused, store_logo
from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.admin.settings import services as svc
from waterportal.admin.settings.groups import (
    CYCLES,
    GROUPS,
    LOGIN_MODES,
    VENDOR_KEYS,
    label,
    texts_with_times,
)
from waterportal.admin.settings.schema_form import SettingsForm, japanese
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant, tenant_context
from waterportal.tenancy.registry import _freeze, get_registry
from waterportal.tenancy.schemas import (
    deep_merge,
    effective_settings,
    validate_settings,
)
from waterportal.tenancy.templating import render_page
from waterportal.tenancy.words import fill

CONFLICT = "この画面を開いた後に、設定が他の操作で変更されました。最新の内容を確認してから、もう一度保存してください。"


def _lookup(settings: dict[str, Any], dotted: str) -> Any:
    value: Any = settings
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def vendor_values(row, effective: dict[str, Any]) -> list[tuple[str, str]]:
    """The vendor-owned keys as (label, value), read-only in the console."""
    out = []
    for key, title in VENDOR_KEYS:
        value = [h.host for h in row.hosts] if key == "hosts" else _lookup(effective, key)
        if key == "login.mode":
            value = LOGIN_MODES.get(value, value)
        elif key == "billing.cycle":
            value = CYCLES.get(value, value)
        out.append((title, ", ".join(value) if isinstance(value, list) else str(value)))
    return out


def display(value: Any) -> str:
    """A setting value as the history shows it."""
    if value is None:
        return "(なし)"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


@admin.app_template_global("setting_label")
def setting_label(key: str) -> str:
    """The Japanese label of a dotted settings key."""
    return label(key)


@admin.get("/settings")
@staff_required("admin")
def settings_index():
    """設定: the groups, what the vendor owns (read-only), and overrides a newer tenant.toml broke."""
    row = svc.tenant_row(current_tenant())
    base, overrides, effective = svc.state(row)
    try:
        _, skipped = effective_settings(base, overrides)
    except SettingsInvalid:
        skipped = []
    return render("settings.html", title="設定", groups=GROUPS.values(), vendor=vendor_values(row, effective),
                  skipped=skipped, overrides=overrides)


def login_preview(tenant: TenantContext, settings: dict[str, Any]) -> str:
    """The city's real login page, rendered with ``settings`` instead of the saved ones."""
    preview = dataclasses.replace(tenant, settings=_freeze(settings))
    with tenant_context(preview):
        form = LoginForm()
        form.set_mode(preview.login_mode)
        security = [line.strip() for line in fill(settings["texts"].get("security_notice", ""), settings).splitlines()
                    if line.strip()]
        return render_page(
            "accounts/login.html", form=form, message=None, next_path=None, notice=login_notice(preview),
            security_lines=security, register_url=url_for("registration.start"),
            forgot_url=url_for("accounts.recover" if preview.login_mode == "login_id" else "accounts.forgot_password"),
        )


def _form_data() -> tuple[dict[str, str], str | None]:
    """The submitted fields, with an uploaded logo stored and put in place; the upload's error."""
    data = request.form.to_dict(flat=True)
    if "branding.logo" not in data:
        return data, None
    if "branding.logo_remove" in request.form:
        data["branding.logo"] = ""
    upload = request.files.get("logo_file")
    if upload is not None and upload.filename:
        try:
            data["branding.logo"] = store_logo(upload.read(), g.staff.actor, client_address())
            # Kept even if this submission is only a preview or fails elsewhere: the file is
            # inert and content-addressed, and the next submission refers to it by name.
            db.session.commit()
        except AssetRefused as exc:
            return data, str(exc)
    return data, None


@admin.route("/settings/<group_slug>", methods=["GET", "POST"])
@staff_required("admin")
def settings_group(group_slug: str):
    """One settings page: save, or preview the login page with the values first."""
    group = GROUPS.get(group_slug) or abort(404)
    tenant: TenantContext = current_tenant()
    row = svc.tenant_row(tenant)
    _, overrides, effective = svc.state(row)
    form = SettingsForm(group, effective, overrides)
    preview_html, message, version = None, None, row.version
    if request.method == "POST":
        data, upload_error = _form_data()
        sections = form.load(data)
        if upload_error:
            form.add_error("branding.logo", upload_error)
            sections = None
        expected = request.form.get("version", "")
        if sections is not None:
            try:
                if request.form.get("action") == "preview":
                    preview_html = login_preview(tenant, svc.preview_settings(tenant, group, sections))
                    version = int(expected) if expected.isdigit() else row.version
                else:
                    revision = svc.save_group(
                        tenant, group, sections, g.staff.actor, g.staff.email, client_address(),
                        expected_version=int(expected) if expected.isdigit() else None,
                    )
                    db.session.commit()
                    get_registry().refresh(force=True)
                    flash(f"「{group.title}」を保存しました(変更履歴 No.{revision.number})。" if revision
                          else "変更はありませんでした。", "info")
                    return redirect(url_for("admin.settings_group", group_slug=group.slug))
            except SettingsInvalid as exc:
                db.session.rollback()
                sections_here = {section for section, _ in group.parts}
                for key, reasons in exc.errors.items():
                    target = key if key.split(".")[0] in sections_here else group.parts[0][0]
                    for reason in reasons:
                        form.add_error(target, japanese(reason))
            except svc.SettingsConflict:
                db.session.rollback()
                message = CONFLICT
        if sections is None:
            version = int(expected) if expected.isdigit() else row.version
    timed_texts = texts_with_times(effective) if group.slug == "hours" else []
    return render("settings_form.html", title=group.title, group=group, form=form, blocks=form.blocks(),
                  csrf_form=ActionForm(), preview_html=preview_html, message=message, version=version,
                  timed_texts=timed_texts)


@admin.get("/settings/history")
@staff_required("admin")
def settings_history():
    """変更履歴: every revision with its changes, old -> new."""
    return render("settings_history.html", title="設定の変更履歴", revisions=svc.revisions(), display=display,
                  form=ActionForm())


@admin.route("/settings/history/<int:number>/rollback", methods=["GET", "POST"])
@staff_required("admin")
def settings_rollback(number: int):
    """Roll back to revision ``number`` (0: tenant.toml as is): confirm (GET), then do it (POST)."""
    tenant: TenantContext = current_tenant()
    if number and svc.get_revision(number) is None:
        abort(404)
    form = ActionForm()
    error = None
    if form.validate_on_submit():
        try:
            revision = svc.rollback(tenant, number, g.staff.actor, g.staff.email, client_address())
        except SettingsInvalid as exc:
            db.session.rollback()
            error = "; ".join(f"{label(k)}: {japanese(r[0])}" for k, r in exc.errors.items())
        except svc.SettingsConflict:
            db.session.rollback()
            error = CONFLICT
        else:
            db.session.commit()
            get_registry().refresh(force=True)
            flash(f"変更履歴 No.{number} の状態に戻しました(No.{revision.number})。" if revision
                  else "すでにその状態です。変更はありませんでした。", "info")
            return redirect(url_for("admin.settings_history"))
    row = svc.tenant_row(tenant)
    base, _, effective = svc.state(row)
    target = {} if number == 0 else svc.get_revision(number).overrides
    try:
        changes = svc.diff(effective, validate_settings(deep_merge(base, target)))
    except SettingsInvalid:
        changes, error = [], error or "この状態は現在の設定ファイルと組み合わせると無効なため、戻せません。"
    return render("settings_rollback.html", title="設定を戻す", number=number, changes=changes,
                  display=display, form=form, error=error)
