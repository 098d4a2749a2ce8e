"""地区別のお知らせ (断水・濁水・工事): list and detail (every staff member), publish and
withdraw (admins), as the console's notices."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from waterportal.admin.alert_forms import AreaAlertForm
from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.sessions import staff_required
from waterportal.alerts import services
from waterportal.alerts.models import AreaAlert
from waterportal.core.i18n import offered_languages
from waterportal.core.time import local_now, utcnow_naive
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.notices.forms import VARIANT_NAMES
from waterportal.tenancy.context import current_tenant


def _alert_or_404(alert_id: int) -> AreaAlert:
    alert = services.get_alert(current_tenant(), alert_id)
    if alert is None:
        abort(404)
    return alert


@admin.get("/area-alerts")
@staff_required()
def area_alerts():
    """地区別のお知らせ一覧: status, period, how many members it reached and its mail."""
    now = utcnow_naive()
    found = services.all_alerts()
    items = [(alert, services.status(alert, now)) for alert in found]
    return render("area_alerts.html", title="地区別のお知らせ", items=items, kinds=services.KINDS,
                  mail_counters=services.mail_counters(found), variant_names=VARIANT_NAMES,
                  texts=services.alert_texts([alert.id for alert in found]))


@admin.route("/area-alerts/new", methods=["GET", "POST"])
@staff_required("admin")
def area_alert_new():
    """地区別のお知らせの作成: 「対象を確認する」 shows the contracts and members reached;
    「公開する」 publishes (an area with no contract is refused at its field)."""
    tenant = current_tenant()
    choices = services.area_choices(tenant)
    form = AreaAlertForm(choices, tenant.timezone, languages=offered_languages())
    counts = None
    if form.validate_on_submit():
        if request.form.get("action") == "publish":
            try:
                alert = services.publish_alert(tenant, g.staff.actor, client_address(), **form.values())
            except services.AreaAlertError as exc:
                db.session.rollback()
                getattr(form, exc.field).errors = [exc.message]
            else:
                db.session.commit()
                flash(f"「{alert.title}」を公開しました。対象: 契約 {alert.matched_contracts}件・会員 "
                      f"{alert.matched_members}人(メールは順次送信されます)。", "info")
                return redirect(url_for("admin.area_alert", alert_id=alert.id))
        else:
            counts = services.match_counts(tenant, form.chosen)
            if not counts[0]:
                form.areas.errors = ["選んだ地区に該当する契約の住所がありません。"]
                counts = None
    elif not form.is_submitted():
        start = local_now(tenant.timezone).replace(second=0, microsecond=0)
        form.starts_at.data = start.strftime("%Y-%m-%dT%H:%M")
        form.kind.data = "outage"
    status = 422 if form.errors else 200
    return render("area_alert_form.html", title="地区別のお知らせの作成", form=form, choices=choices,
                  counts=counts, chosen=form.chosen), status


@admin.get("/area-alerts/<int:alert_id>")
@staff_required()
def area_alert(alert_id: int):
    """One alert: its areas, period, how many contracts and members it reached, its mail."""
    alert = _alert_or_404(alert_id)
    return render("area_alert.html", title="地区別のお知らせ", alert=alert, kinds=services.KINDS,
                  state=services.status(alert, utcnow_naive()), areas=services.alert_areas(alert),
                  mail=services.mail_counters([alert]).get(alert.id), variant_names=VARIANT_NAMES,
                  texts=services.alert_texts([alert.id]).get(alert.id, {}))


@admin.route("/area-alerts/<int:alert_id>/withdraw", methods=["GET", "POST"])
@staff_required("admin")
def area_alert_withdraw(alert_id: int):
    """取り下げ: a confirmation page (GET), then the alert ends at once (POST)."""
    alert = _alert_or_404(alert_id)
    if alert.withdrawn_at is not None:
        flash("このお知らせは取り下げ済みです。", "info")
        return redirect(url_for("admin.area_alert", alert_id=alert.id))
    form = ActionForm()
    if form.validate_on_submit():
        services.withdraw_alert(alert, g.staff.actor, client_address())
        db.session.commit()
        flash(f"「{alert.title}」を取り下げました。", "info")
        return redirect(url_for("admin.area_alert", alert_id=alert.id))
    return render("area_alert_withdraw.html", title="地区別のお知らせの取り下げ", alert=alert, form=form)
