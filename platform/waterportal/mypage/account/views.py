"""Blueprint ``profile`` (:mod:`waterportal.mypage.account.blueprint`): ⑦ 会員登録情報の照会・変更
(this module); ⑧ 退会 and ⑨ 各種お手続き are in :mod:`waterportal.mypage.account.contract_views`.

Every change is a POST with a CSRF token; GET never changes anything. A refused change
re-renders its form with what was typed (never passwords) and the message next to the
field. Pages carry ``Cache-Control: no-store`` (the request pipeline's rule for this blueprint):
they show personal data.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy.exc import IntegrityError

from waterportal.accounts.registration.forms import CodeForm
from waterportal.accounts.session import current_session_key
from waterportal.accounts.verification import ResendTooSoon, message_for, resend_message
from waterportal.alerts import services as alert_services
from waterportal.core.auth.passwords import policy_lines
from waterportal.core.time import utcnow_naive
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.mypage.account import services
from waterportal.mypage.account.blueprint import member, page, profile, show_error
from waterportal.mypage.account.errors import ProfileError
from waterportal.mypage.account.forms import (
    EmailChangeForm,
    NicknameForm,
    NotificationsForm,
    PasswordChangeForm,
    SecretQuestionForm,
)
from waterportal.tenancy.context import TenantContext, current_tenant


def _ttl(tenant: TenantContext) -> int:
    return tenant.settings["registration"]["code_ttl_minutes"]


@profile.get("/profile")
@login_required
def index():
    """照会: everything registered, each with its 変更 link."""
    tenant: TenantContext = current_tenant()
    current = member()
    pending = services.pending_email_change(current)
    if pending is not None and (pending.revoked_at is not None or pending.expires_at <= utcnow_naive()):
        pending = None
    return page("index.html", member=current, pending=pending, login_id_city=tenant.login_mode == "login_id")


@profile.route("/profile/nickname", methods=["GET", "POST"])
@login_required
def nickname():
    """お名前(ニックネーム)の変更."""
    current = member()
    form = NicknameForm(data={"nickname": current.nickname} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.change_nickname(current, form.nickname.data, client_address())
        except ProfileError as exc:
            show_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("お名前を変更しました。"), "info")
            return redirect(url_for(".index"))
    return page("nickname.html", form=form)


@profile.route("/profile/email", methods=["GET", "POST"])
@login_required
def email():
    """メールアドレスの変更 1/2: the new address and the current password; a code is mailed."""
    tenant: TenantContext = current_tenant()
    current = member()
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            address = services.request_email_change(tenant, current, form.email.data, form.password.data, client_address())
        except ProfileError as exc:
            db.session.rollback()
            show_error(form, exc)
        except ResendTooSoon as exc:
            db.session.rollback()
            form.email.errors.append(resend_message(exc.seconds))
        else:
            db.session.commit()
            flash(gettext("%(email)s 宛に認証コードを送信しました。", email=address), "info")
            return redirect(url_for(".email_verify"))
    return page("email.html", form=form, member=current, ttl=_ttl(tenant))


@profile.route("/profile/email/verify", methods=["GET", "POST"])
@login_required
def email_verify():
    """メールアドレスの変更 2/2: the code from the mail; success switches the address."""
    tenant: TenantContext = current_tenant()
    current = member()
    pending = services.pending_email_change(current)
    if pending is None:
        return redirect(url_for(".email"))
    new_address = pending.email
    form = CodeForm()
    if form.validate_on_submit():
        try:
            result = services.confirm_email_change(tenant, current, form.code.data, client_address())
        except ProfileError as exc:
            db.session.commit()  # the code is spent either way
            flash(exc.message, "error")
            return redirect(url_for(".email"))
        try:
            db.session.commit()
        except IntegrityError:  # someone registered the address a moment ago
            db.session.rollback()
            flash(str(services.EMAIL_TAKEN), "error")
            return redirect(url_for(".email"))
        if result.ok:
            flash(gettext("メールアドレスを変更しました。これまでのメールアドレスにも、変更のお知らせをお送りしました。"), "info")
            return redirect(url_for(".index"))
        form.code.errors.append(message_for(result, _ttl(tenant)))
    return page("email_verify.html", form=form, new_address=new_address, ttl=_ttl(tenant))


@profile.post("/profile/email/resend")
@login_required
def email_resend():
    """A new code to the pending address."""
    try:
        address = services.resend_email_change(current_tenant(), member())
    except ProfileError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".email"))
    except ResendTooSoon as exc:
        db.session.rollback()
        flash(resend_message(exc.seconds), "error")
        return redirect(url_for(".email_verify"))
    db.session.commit()
    flash(gettext("%(email)s 宛に新しい認証コードを送信しました。以前の認証コードは使えません。", email=address), "info")
    return redirect(url_for(".email_verify"))


@profile.post("/profile/email/cancel")
@login_required
def email_cancel():
    """Give up the email change; the registered address stays."""
    services.cancel_email_change(member())
    db.session.commit()
    flash(gettext("メールアドレスの変更を中止しました。"), "info")
    return redirect(url_for(".index"))


@profile.route("/profile/password", methods=["GET", "POST"])
@login_required
def password():
    """パスワードの変更: other devices are logged out, this one stays; a notice is mailed."""
    tenant: TenantContext = current_tenant()
    current = member()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                tenant, current, form.current_password.data, form.password.data,
                keep_key=current_session_key(), remote_addr=client_address(),
            )
        except ProfileError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("パスワードを変更しました。ほかの端末でのログインは終了しました。"), "info")
            return redirect(url_for(".index"))
    return page("password.html", form=form, policy=policy_lines(tenant.settings["password_policy"]))


@profile.route("/profile/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """お知らせメールの受取設定."""
    current = member()
    data = {"notify_bills": current.notify_bills, "notify_notices": current.notify_notices,
            "notify_leak": current.notify_leak}
    alerts_off = alert_services.mail_kinds_off(current.id)
    data.update({f"alert_{kind}": kind not in alerts_off for kind in alert_services.KINDS})
    form = NotificationsForm(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        services.update_notifications(
            current, bills=form.notify_bills.data, notices=form.notify_notices.data, leak=form.notify_leak.data,
            remote_addr=client_address()
        )
        alert_services.set_mail_kinds(current_tenant(), current, {kind for kind in alert_services.KINDS
                                                                  if form[f"alert_{kind}"].data},
                                      actor=f"member:{current.id}", remote_addr=client_address())
        db.session.commit()
        flash(gettext("お知らせメールの受取設定を変更しました。"), "info")
        return redirect(url_for(".index"))
    return page("notifications.html", form=form)


@profile.route("/profile/secret", methods=["GET", "POST"])
@login_required
def secret():
    """秘密の質問の変更 (login-ID cities only)."""
    tenant: TenantContext = current_tenant()
    if tenant.login_mode != "login_id":
        abort(404)
    current = member()
    form = SecretQuestionForm(tenant, data={"secret_question": current.secret_question} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.change_secret_question(
                tenant, current, form.password.data, form.secret_question.data, form.secret_answer.data, client_address()
            )
        except ProfileError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("秘密の質問と答えを変更しました。"), "info")
            return redirect(url_for(".index"))
    # The answer is a secret like a password: never echoed back.
    form.secret_answer.data, form.secret_answer.raw_data = "", []
    return page("secret.html", form=form)


from waterportal.mypage.account import contract_views  # noqa: E402,F401 - routes attach to this blueprint
