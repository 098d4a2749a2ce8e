"""Password reset (email cities) and login-ID recovery (login-ID cities), on blueprint ``accounts``.

Pages that carry a token in their URL send ``Referrer-Policy: no-referrer`` and
``Cache-Control: no-store`` so the token leaks neither to other sites nor to caches.
"""
from __future__ import annotations

from flask import flash, make_response, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user

from waterportal.accounts import services
from waterportal.accounts.blueprint import accounts
from waterportal.accounts.forms import AnswerForm, EmailForm, NewPasswordForm
from waterportal.accounts.models import Member
from waterportal.accounts.recovery import services as recovery
from waterportal.accounts.session import clear_citizen_session
from waterportal.accounts.tokens import (
    LOGIN_RECOVERY,
    PASSWORD_RESET,
    TokenExpired,
    TokenInvalid,
    read_token,
)
from waterportal.core.auth.passwords import policy_lines
from waterportal.core.text import normalise_email
from waterportal.core.time import wait_minutes
from waterportal.core.web import client_address, throttled_response, token_page
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant
from waterportal.tenancy.templating import render_page

RECOVER_EMAIL_KEY = "recover_email"


def _throttled(wait: int) -> str:
    return gettext("短時間に何度も送信されたため、受付を一時停止しています。%(minutes)s分ほど時間をおいてから、もう一度お試しください。",
                   minutes=wait_minutes(wait))


_private = token_page


def _is_login_id_city(tenant: TenantContext) -> bool:
    return tenant.login_mode == "login_id"


# --- email cities: パスワードを忘れた場合はこちら ------------------------------------------

@accounts.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for the registered メールアドレス; the answer is the same whether it exists or not."""
    tenant: TenantContext = current_tenant()
    if _is_login_id_city(tenant):
        return redirect(url_for("accounts.recover"))
    form = EmailForm()
    if form.validate_on_submit():
        wait = services.request_password_reset(tenant, form.email.data, client_address())
        if wait:
            body = render_page("accounts/forgot_password.html", title=gettext("パスワードの再設定"), form=form,
                               message=_throttled(wait))
            return throttled_response(body, wait)
        db.session.commit()
        return render_page("accounts/forgot_sent.html", title=gettext("パスワードの再設定"))
    return render_page("accounts/forgot_password.html", title=gettext("パスワードの再設定"), form=form, message=None)


@accounts.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The mailed link: set a new password (single use, expires)."""
    return _new_password_page(token, PASSWORD_RESET, show_login_id=False)


# --- login-ID cities: ログインID/パスワードを忘れた方はこちら ----------------------------------

@accounts.route("/recover", methods=["GET", "POST"])
def recover():
    """Step 1: the registered メールアドレス."""
    tenant: TenantContext = current_tenant()
    if not _is_login_id_city(tenant):
        return redirect(url_for("accounts.forgot_password"))
    form = EmailForm()
    if form.validate_on_submit():
        wait = recovery.start_lookup(tenant, client_address())
        if wait:
            body = render_page("accounts/recover_email.html", title=gettext("ログインID・パスワードをお忘れの方"), form=form,
                               message=_throttled(wait))
            return throttled_response(body, wait)
        session[RECOVER_EMAIL_KEY] = normalise_email(form.email.data)
        return redirect(url_for("accounts.recover_question"))
    if request.method == "GET" and session.get(RECOVER_EMAIL_KEY):
        form.email.data = session[RECOVER_EMAIL_KEY]
    return render_page("accounts/recover_email.html", title=gettext("ログインID・パスワードをお忘れの方"), form=form, message=None)


@accounts.route("/recover/question", methods=["GET", "POST"])
def recover_question():
    """Step 2: the secret question (a stable decoy for unknown addresses) and its answer."""
    tenant: TenantContext = current_tenant()
    email = session.get(RECOVER_EMAIL_KEY)
    if not _is_login_id_city(tenant) or not email:
        return redirect(url_for("accounts.recover"))
    form = AnswerForm()
    message, wait = None, 0
    if form.validate_on_submit():
        result = recovery.check_answer(tenant, email, form.answer.data, client_address())
        if result.status == "sent":
            session.pop(RECOVER_EMAIL_KEY, None)
            db.session.commit()
            return render_page("accounts/recover_sent.html", title=gettext("ログインID・パスワードをお忘れの方"))
        if result.status == "throttled":
            message = gettext("答えの誤りが続いたため、しばらくの間お手続きできません。%(minutes)s分ほど時間をおいてから、もう一度お試しください。",
                              minutes=wait_minutes(result.retry_after))
            wait = result.retry_after
        else:
            form.answer.errors.append(gettext("秘密の質問の答えが正しくありません。"))
        # The answer is a secret like a password: never echoed back.
        form.answer.data, form.answer.raw_data = "", []
    body = render_page(
        "accounts/recover_question.html", title=gettext("ログインID・パスワードをお忘れの方"), form=form, email=email,
        question=recovery.recovery_question(tenant, email), message=message,
    )
    return throttled_response(body, wait) if wait else body


@accounts.route("/recover/<token>", methods=["GET", "POST"])
def recover_account(token: str):
    """The mailed link: shows the ログインID and lets the member set a new password."""
    return _new_password_page(token, LOGIN_RECOVERY, show_login_id=True)


# --- shared: the new-password form behind a mailed link ---------------------------------

def _new_password_page(token: str, purpose: str, show_login_id: bool):
    tenant: TenantContext = current_tenant()
    try:
        member = read_token(tenant, token, purpose)
    except TokenExpired:
        return _private(make_response(render_page(
            "accounts/token_invalid.html", title=gettext("URLの有効期限切れ"), expired=True, again_url=_again_url(tenant)), 400))
    except TokenInvalid:
        return _private(make_response(render_page(
            "accounts/token_invalid.html", title=gettext("無効なURL"), expired=False, again_url=_again_url(tenant)), 400))
    form = NewPasswordForm()
    if form.validate_on_submit():
        problems = services.password_errors(tenant, member, form.password.data)
        if problems:
            form.password.errors.extend(problems)
        else:
            _apply_new_password(tenant, member, form.password.data)
            flash(gettext("パスワードを再設定しました。新しいパスワードでログインしてください。"), "info")
            return _private(redirect(url_for("accounts.login")))
    title = gettext("ログインIDの確認・パスワードの再設定") if show_login_id else gettext("パスワードの再設定")
    return _private(make_response(render_page(
        "accounts/new_password.html", title=title, form=form, member=member, show_login_id=show_login_id,
        policy=policy_lines(tenant.settings["password_policy"]), action=request.path,
    )))


def _apply_new_password(tenant: TenantContext, member: Member, password: str) -> None:
    """Store it, end every session of the member (this browser's too) and commit."""
    services.set_password(tenant, member, password, actor=f"member:{member.id}", remote_addr=client_address())
    if current_user.is_authenticated:
        logout_user()
    clear_citizen_session()
    db.session.commit()


def _again_url(tenant: TenantContext) -> str:
    return url_for("accounts.recover" if _is_login_id_city(tenant) else "accounts.forgot_password")
