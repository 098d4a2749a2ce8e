"""Blueprint ``vendor``: the vendor console, served on ``VENDOR_HOSTS`` only (tenancy/gate.py).

Pages: login (password, then TOTP when set), the list of cities with their figures, and
the audited one-time link into a city's console. Templates live in this package and are
rendered by bare names (``vendor/...``); no city or theme folder can reach them.
"""
from __future__ import annotations

import logging

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from waterportal.admin.forms import ActionForm, StaffLoginForm, TotpForm
from waterportal.core.auth import devices
from waterportal.core.auth.login import throttled_message
from waterportal.core.time import city_time_text, utcnow_naive, wait_minutes
from waterportal.core.web import client_address, console_headers, page_response
from waterportal.extensions import db
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import context_for
from waterportal.tenancy.schemas import SLUG
from waterportal.vendor_console import auth
from waterportal.vendor_console.auth import vendor_required
from waterportal.vendor_console.blueprint import vendor
from waterportal.vendor_console.links import SECOND_FACTOR_REQUIRED, issue_city_link, refuse_city_link
from waterportal.vendor_console.overview import city_figures, oldest_pending_age


@vendor.app_template_filter("city_time")
def city_time(moment, tz_name: str) -> str:
    """A naive UTC time as the city's wall clock (``2026-11-22 09:00``): what its staff read."""
    return city_time_text(moment, tz_name)

log = logging.getLogger("waterportal.vendor")

INVALID = "メールアドレスまたはパスワードが正しくありません。"
TOTP_REQUIRED = (
    "ベンダー職員のログインには2段階認証が必須です。運用担当者が flask vendor totp でこのアカウントの"
    "確認コードを設定してから、もう一度ログインしてください。"
)
THROTTLED = "失敗が続いたため、一時的にログインを制限しています。{minutes}分ほど時間をおいてから、もう一度お試しください。"


# Never cached. No referrer at all (the city links carry a one-time key) is the request
# pipeline's rule for this blueprint (pipeline.add_security_headers).
vendor.after_request(console_headers)


def _render(name: str, status: int = 200, retry_after: int = 0, **context):
    return page_response(render_template(f"vendor/{name}", me=g.get("vendor_staff"), **context), status, retry_after)



@vendor.route("/login", methods=["GET", "POST"])
def login():
    """ベンダー管理画面ログイン (password; then the code when the account has TOTP)."""
    if g.vendor_staff is not None:
        return redirect(url_for("vendor.index"))
    form = StaffLoginForm()
    message, status, wait = None, 200, 0
    if form.validate_on_submit():
        result = auth.authenticate(form.email.data, form.password.data, client_address(),
                                   devices.presented(devices.VENDOR))
        if result.account is not None and result.account.totp_secret:
            auth.set_pending(result.account)
            db.session.commit()
            return redirect(url_for("vendor.login_totp"))
        if result.account is not None and not current_app.config["VENDOR_REQUIRE_TOTP"]:
            auth.start_session(result.account, client_address())
            db.session.commit()
            response = redirect(url_for("vendor.index"))
            auth.remember_device(response, result.account)
            return response
        db.session.commit()
        if result.account is not None:
            # Production: no vendor opens the cities' consoles on a password alone.
            log.warning("vendor login refused without a second factor: %s", result.account.actor)
            message, status = TOTP_REQUIRED, 403
        elif result.throttled:
            message, status, wait = throttled_message(result, THROTTLED), 429, result.retry_after
        else:
            message = INVALID
    return _render("login.html", status, wait, form=form, message=message, title="ログイン")


@vendor.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    """Step 2: the authenticator app's code."""
    pending = auth.pending_vendor()
    if pending is None:
        flash("もう一度メールアドレスとパスワードを入力してください。", "info")
        return redirect(url_for("vendor.login"))
    form = TotpForm()
    status, wait = 200, 0
    if form.validate_on_submit():
        result = auth.verify_totp(pending, form.code.data)
        if result.account is not None:
            auth.start_session(pending, client_address())
            db.session.commit()
            response = redirect(url_for("vendor.index"))
            auth.remember_device(response, pending)
            return response
        db.session.commit()
        if result.throttled:
            status, wait = 429, result.retry_after
            form.code.errors.append(THROTTLED.format(minutes=wait_minutes(wait)))
        else:
            form.code.errors.append("確認コードが正しくありません。")
    return _render("login_totp.html", status, wait, form=form, title="確認コードの入力")


@vendor.post("/logout")
@vendor_required
def logout():
    """ログアウト: the session row ends."""
    auth.end_session("logout")
    db.session.commit()
    flash("ログアウトしました。", "info")
    return redirect(url_for("vendor.login"))


@vendor.get("/")
@vendor_required
def index():
    """市町村の一覧: status, hosts, members, contracts, last import, mail backlog and failures."""
    now = utcnow_naive()
    return _render("index.html", title="市町村の一覧", cities=city_figures(), oldest=oldest_pending_age(now),
                   form=ActionForm())


@vendor.post("/cities/<slug>/console")
@vendor_required
def open_city_console(slug: str):
    """Open a city's console through a one-time link (recorded in that city's audit log)."""
    # A slug that cannot be one (a NUL would reach PostgreSQL, which refuses it) is no city.
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug)) if SLUG.fullmatch(slug) else None
    if tenant is None:
        return _render("index.html", 404, title="市町村の一覧", cities=city_figures(), oldest=None,
                       form=ActionForm(), message=f"市町村 {slug} はありません。")
    if not tenant.enabled:
        flash(f"{tenant.name}は停止中のため、管理画面を開けません(flask tenant enable {slug})。", "error")
        return redirect(url_for("vendor.index"))
    city = context_for(tenant)
    if auth.city_requires_second_factor(city) and not auth.second_factor_passed(g.vendor_staff):
        refuse_city_link(g.vendor_staff, city, client_address())
        db.session.commit()
        flash(f"{tenant.name}: {SECOND_FACTOR_REQUIRED}", "error")
        return redirect(url_for("vendor.index"))
    path = issue_city_link(g.vendor_staff, city, client_address())
    db.session.commit()
    return redirect(city_url(tenant.primary_host, path), code=303)


def city_url(host: str, path: str) -> str:
    """``path`` on the city's primary host, with this request's scheme and port: the
    vendor console and the cities are served by the same deployment (and proxy)."""
    port = request.host.rsplit(":", 1)[1] if ":" in request.host.lstrip("[") else ""
    return f"{request.scheme}://{host}{':' + port if port else ''}{path}"
