"""Blueprint ``accounts``: top page, login and logout (the member page is ``portal.dashboard``).

Password reset and login-ID recovery live in :mod:`waterportal.accounts.recovery.views`
on the same blueprint. Every state change is a POST with a CSRF token.
"""
from __future__ import annotations

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from waterportal.accounts import services
from waterportal.accounts.blueprint import accounts
from waterportal.accounts.forms import LoginForm, UnlockForm
from waterportal.accounts.session import (
    clear_citizen_session,
    current_session_key,
    end_session,
)
from waterportal.core.auth import devices, unlock
from waterportal.core.auth.login import throttled_message
from waterportal.core.web import client_address, safe_next, throttled_response, token_page
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.templating import render_page
from waterportal.tenancy.words import filled_texts

REMEMBER_ID_COOKIE = "remembered_id"
# Lazy: read in the login page's language.
INVALID_LOGIN = {
    "email": _l("メールアドレスまたはパスワードが正しくありません。"),
    "login_id": _l("ログインIDまたはパスワードが正しくありません。"),
}
THROTTLED_LOGIN = _l(
    "ログインの失敗が続いたため、一時的にログインを制限しています。"
    "{minutes}分ほど時間をおいてから、もう一度お試しください。"
)






# --- 次回からIDの入力を省略: only the ID, signed per city; it never logs anyone in ---------

def _id_serializer(tenant: TenantContext) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"remembered-id:{tenant.id}")


def remembered_id(tenant: TenantContext) -> str | None:
    """The ID saved by 「次回からIDの入力を省略」, if a valid cookie of this city is present."""
    raw = request.cookies.get(REMEMBER_ID_COOKIE)
    if not raw:
        return None
    try:
        value = _id_serializer(tenant).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and len(value) <= 254 else None


def set_remembered_id(response, tenant: TenantContext, identifier: str) -> None:
    """Host-only, HttpOnly, SameSite=Lax (Secure in production) cookie holding the ID only."""
    days = tenant.settings["login"]["remember_id_days"]
    response.set_cookie(
        REMEMBER_ID_COOKIE, _id_serializer(tenant).dumps(identifier), max_age=days * 86400,
        httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False), path="/",
    )


def forget_remembered_id(response) -> None:
    """Remove the saved ID."""
    response.delete_cookie(
        REMEMBER_ID_COOKIE, path="/", httponly=True, samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def login_notices(tenant: TenantContext) -> tuple[str, list[str]]:
    """The login page's two city notices, in the page's language: ご利用時間の案内 (the city's
    text with its placeholders filled, else one made from its service hours) and the lines of
    セキュリティ確保のために. The console's preview shows the same (admin/settings/views.py)."""
    texts = filled_texts(tenant.settings)
    text = texts["login_notice"]
    hours = tenant.settings.get("service_hours")
    if not text and hours:
        text = gettext("ご利用可能時間は、毎日 %(open)s〜%(close)s の間です。", open=hours["open"], close=hours["close"])
    return text, _lines(texts["security_notice"])


# --- pages -----------------------------------------------------------------------------

@accounts.get("/")
def index():
    """The portal's top: the member page when logged in, else the login page."""
    return redirect(url_for("portal.dashboard" if current_user.is_authenticated else "accounts.login"))


def _begin_session(member) -> None:
    """Log ``member`` in with a fresh session: nothing from before the login survives."""
    end_session(current_session_key(), "relogin")
    clear_citizen_session()
    services.log_in(member, client_address(), request.user_agent.string or "")
    login_user(member)
    db.session.commit()


@accounts.route("/login", methods=["GET", "POST"])
def login():
    """ログイン: by email or by login ID, per the city's ``login.mode``."""
    tenant: TenantContext = current_tenant()
    next_path = safe_next(request.args.get("next"))
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(next_path or url_for("portal.dashboard"))
    form = LoginForm()
    form.set_mode(tenant.login_mode)
    message, status, wait = None, 200, 0
    if request.method == "GET":
        saved = remembered_id(tenant)
        if saved:
            form.identifier.data, form.remember_id.data = saved, True
    elif form.validate_on_submit():
        result = services.authenticate(
            tenant, form.identifier.data, form.password.data, client_address(), devices.presented(devices.MEMBER)
        )
        if result.ok:
            _begin_session(result.account)
            response = redirect(next_path or url_for("portal.dashboard"))
            devices.remember(devices.MEMBER, response, result.device_token)
            if form.remember_id.data:
                set_remembered_id(response, tenant, services.normalise_identifier(tenant, form.identifier.data))
            else:
                forget_remembered_id(response)
            return response
        db.session.commit()  # the unlock link a failure may have mailed
        if result.throttled:
            message, status, wait = throttled_message(result, THROTTLED_LOGIN), 429, result.retry_after
        else:
            message = str(INVALID_LOGIN[tenant.login_mode])
    notice, security_lines = login_notices(tenant)
    body = render_page(
        "accounts/login.html", form=form, message=message, next_path=next_path,
        notice=notice, security_lines=security_lines,
        register_url=url_for("registration.start"),
        forgot_url=url_for("accounts.recover" if tenant.login_mode == "login_id" else "accounts.forgot_password"),
    )
    response = throttled_response(body, wait) if status == 429 else make_response(body, status)
    if request.method == "POST" and not form.remember_id.data:
        forget_remembered_id(response)
    return response


@accounts.route("/login/unlock/<token>", methods=["GET", "POST"])
def unlock_login(token: str):
    """The mailed unlock link: the button makes this browser a known device of the member
    (its own failure counter), once; it logs nobody in."""
    tenant: TenantContext = current_tenant()
    form = UnlockForm()
    try:
        if form.validate_on_submit():
            device_token = services.unlock_device(tenant, token, client_address())
            db.session.commit()
            return devices.unlocked(devices.MEMBER, url_for("accounts.login"), device_token)
        unlock.peek(services.UNLOCK, tenant, token)
    except unlock.LinkInvalid as exc:
        expired = isinstance(exc, unlock.LinkExpired)
        return token_page(make_response(render_page(
            "accounts/token_invalid.html", title=gettext("URLの有効期限切れ") if expired else gettext("無効なURL"), expired=expired,
            again_url=url_for("accounts.login")), 400))
    return token_page(make_response(render_page("accounts/unlock.html", title=gettext("ログインの制限の解除"), form=form)))


def _lines(text: str) -> list[str]:
    """The security notice as list items; a line ending in 「、」 runs on into the next."""
    items: list[str] = []
    carry = ""
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        if line.endswith("、"):
            carry += line
            continue
        items.append(carry + line)
        carry = ""
    if carry:
        items.append(carry)
    return items


@accounts.post("/logout")
def logout():
    """ログアウト: ends this session server-side; the old cookie is worthless afterwards."""
    if current_user.is_authenticated:
        services.log_out(current_user._get_current_object(), current_session_key(), client_address())
        logout_user()
        db.session.commit()
    clear_citizen_session()
    flash(gettext("ログアウトしました。"), "info")
    return redirect(url_for("accounts.login"))
