"""お知らせの管理: list (every staff member), create, edit, delete (admins)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for

from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.core.i18n import offered_languages
from waterportal.core.time import city_time_text, local_now, utcnow
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.notices import services
from waterportal.notices.forms import VARIANT_NAMES, NoticeForm
from waterportal.notices.models import Notice
from waterportal.tenancy.context import current_tenant


@admin.app_template_filter("autolink")
def autolink_filter(text: str | None):
    """``{{ notice.body|autolink }}``: escaped plain text with http(s) links."""
    return services.autolink(text)


@admin.app_template_filter("local_time")
def local_time_filter(moment) -> str:
    """A naive UTC datetime shown as ``YYYY-MM-DD HH:MM`` in the current city's time zone."""
    return city_time_text(moment, current_tenant().timezone)


def _notice_or_404(notice_id: int) -> Notice:
    notice = services.get_notice(notice_id)
    if notice is None:
        abort(404)
    return notice


@admin.get("/notices")
@staff_required()
def notices():
    """お知らせ一覧 with status (予約 / 掲載中 / 掲載終了), 「New」 and each mailing's counter."""
    now = utcnow()
    found = services.all_notices()
    items = [(n, services.status(n, now), services.is_new(n, now, current_tenant())) for n in found]
    return render("notices.html", title="お知らせ", items=items, mail_counters=services.mail_counters(found),
                  texts=services.notice_texts([n.id for n in found]), variant_names=VARIANT_NAMES)


@admin.route("/notices/new", methods=["GET", "POST"])
@staff_required("admin")
def notice_new():
    """お知らせの作成."""
    tenant = current_tenant()
    form = NoticeForm(languages=offered_languages())
    if form.validate_on_submit():
        notice = services.create_notice(tenant, g.staff.actor, client_address(), **form.values(tenant.timezone))
        db.session.commit()
        flash(f"お知らせ「{notice.title}」を登録しました。", "info")
        return redirect(url_for("admin.notices"))
    if not form.is_submitted():
        form.published_at.data = local_now(tenant.timezone).strftime("%Y-%m-%dT%H:%M")
    return render("notice_form.html", title="お知らせの作成", form=form, notice=None)


@admin.route("/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@staff_required("admin")
def notice_edit(notice_id: int):
    """お知らせの編集."""
    tenant = current_tenant()
    notice = _notice_or_404(notice_id)
    form = NoticeForm(languages=offered_languages())
    if form.validate_on_submit():
        changed = services.update_notice(tenant, notice, g.staff.actor, client_address(), **form.values(tenant.timezone))
        db.session.commit()
        flash("お知らせを更新しました。" if changed else "変更はありませんでした。", "info")
        return redirect(url_for("admin.notices"))
    if not form.is_submitted():
        form.fill_from(notice, services.notice_texts([notice.id]).get(notice.id, {}), tenant.timezone)
    return render("notice_form.html", title="お知らせの編集", form=form, notice=notice)


@admin.route("/notices/<int:notice_id>/delete", methods=["GET", "POST"])
@staff_required("admin")
def notice_delete(notice_id: int):
    """お知らせの削除: a confirmation page (GET), then the deletion (POST)."""
    notice = _notice_or_404(notice_id)
    form = ActionForm()
    if form.validate_on_submit():
        title = notice.title
        services.delete_notice(notice, g.staff.actor, client_address())
        db.session.commit()
        flash(f"お知らせ「{title}」を削除しました。", "info")
        return redirect(url_for("admin.notices"))
    return render("notice_delete.html", title="お知らせの削除", notice=notice, form=form)
