"""設定 (admins only): one page per settings group, login-page preview, history and rollback."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import abort, flash, g, redirect, request, url_for

from waterportal.accounts.forms import LoginForm
from waterportal.accounts.views import login_notices
from waterportal.admin.assets import AssetRefused, store_logo
from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.admin.settings import services as svc
from waterportal.admin.settings.groups import (
    CYCLES,
    GROUPS,
    LOGIN_MODES,
    TRANSLATABLE,
    VARIANT_LANGUAGES,
    VENDOR_KEYS,
    Group,
    choice_label,
    label,
    texts_with_times,
)
from waterportal.admin.settings.schema_form import SettingsForm, japanese
from waterportal.admin.settings.variant_form import VariantForm
from waterportal.core.exceptions import SettingsInvalid
from waterportal.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, force_language, offered_languages
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
from waterportal.tenancy.windows import windows_in
from waterportal.tenancy.words import filled_texts

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


def display(value: Any, key: str = "") -> str:
    """A setting value as the history shows it (a choice of ``key`` by its Japanese label)."""
    if value is None:
        return "(なし)"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(choice_label(key, v) for v in value)
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
        notice, security_lines = login_notices(preview)
        return render_page(
            "accounts/login.html", form=form, message=None, next_path=None, notice=notice,
            security_lines=security_lines, register_url=url_for("registration.start"),
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


def page_preview(tenant: TenantContext, group: Group, language: str, settings: dict[str, Any]) -> str:
    """The citizen page a translation shows on, in its language, rendered with ``settings``:
    the login page for the page texts, else 「よくある質問」 or 「お客さま窓口一覧」."""
    with force_language(language):
        if group.slug not in ("faq", "contact"):
            return login_preview(tenant, settings)
        with tenant_context(dataclasses.replace(tenant, settings=_freeze(settings))):
            if group.slug == "faq":
                return render_page("pages/faq.html", items=filled_texts(settings)["faq"])
            return render_page("pages/contact.html", windows=windows_in(settings))


PREVIEW_NAMES = {"faq": "よくある質問", "contact": "お客さま窓口一覧"}


def form_language(group: Group) -> tuple[str, list[str]]:
    """The language this page edits (``?lang=en``: the group's translation) and the ones to choose
    from (none when the group has no translations or the city offers Japanese only)."""
    offered = offered_languages() if group.slug in TRANSLATABLE else [DEFAULT_LANGUAGE]
    language = request.args.get("lang") or DEFAULT_LANGUAGE
    if language != DEFAULT_LANGUAGE and (language not in VARIANT_LANGUAGES or language not in offered):
        abort(404)
    return language, offered if len(offered) > 1 else []


@admin.route("/settings/<group_slug>", methods=["GET", "POST"])
@staff_required("admin")
def settings_group(group_slug: str):
    """One settings page (``?lang=en``/``easy``: its translation): save, or preview first."""
    group = GROUPS.get(group_slug) or abort(404)
    language, languages = form_language(group)
    translation = language != DEFAULT_LANGUAGE
    tenant: TenantContext = current_tenant()
    row = svc.tenant_row(tenant)
    _, overrides, effective = svc.state(row)
    form: SettingsForm | VariantForm = (VariantForm(group, language, effective) if translation
                                        else SettingsForm(group, effective, overrides))
    saved_group = form.saved_group if isinstance(form, VariantForm) else group
    title = f"{group.title}({LANGUAGES[language]})" if translation else group.title
    here = url_for("admin.settings_group", group_slug=group.slug, lang=language if translation else None)
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
                    settings = svc.preview_settings(tenant, saved_group, sections)
                    preview_html = (page_preview(tenant, group, language, settings) if translation
                                    else login_preview(tenant, settings))
                    version = int(expected) if expected.isdigit() else row.version
                else:
                    revision = svc.save_group(
                        tenant, saved_group, sections, g.staff.actor, g.staff.email, client_address(),
                        expected_version=int(expected) if expected.isdigit() else None,
                    )
                    db.session.commit()
                    get_registry().refresh(force=True)
                    flash(f"「{title}」を保存しました(変更履歴 No.{revision.number})。" if revision
                          else "変更はありませんでした。", "info")
                    return redirect(here)
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
    common = {"title": title, "group": group, "form": form, "csrf_form": ActionForm(), "preview_html": preview_html,
              "message": message, "version": version, "action": here, "language": language, "languages": languages}
    if isinstance(form, VariantForm):
        return render("settings_variant.html", language_name=LANGUAGES[language],
                      preview_name=PREVIEW_NAMES.get(group.slug, "ログイン画面"), **common)
    timed_texts = texts_with_times(effective) if group.slug == "hours" else []
    return render("settings_form.html", blocks=form.blocks(), timed_texts=timed_texts, **common)


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
