"""Staff login (password, then the TOTP second factor when set or required), logout,
password change and TOTP enrolment. Every state change is a POST with a CSRF token."""
from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    redirect,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from waterportal.admin.blueprint import admin, render
from waterportal.admin.forms import (
    ActionForm,
    PasswordChangeForm,
    StaffLoginForm,
    TotpEnrolForm,
    TotpForm,
)
from waterportal.admin.models import StaffMember
from waterportal.admin.sessions import (
    drop_pending,
    end_staff_session,
    pending_staff,
    set_pending,
    staff_required,
    start_staff_session,
)
from waterportal.admin.staff import services as staff_svc
from waterportal.audit import services as audit
from waterportal.core import qr
from waterportal.core.auth import devices, unlock
from waterportal.core.auth.login import throttled_message
from waterportal.core.auth.second_factor import new_totp_secret
from waterportal.core.time import wait_minutes
from waterportal.core.web import client_address, page_response, safe_next, token_page
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext, current_tenant

INVALID = "メールアドレスまたはパスワードが正しくありません。"
INVALID_CODE = "確認コードが正しくありません。"
THROTTLED = "失敗が続いたため、一時的にログインを制限しています。{minutes}分ほど時間をおいてから、もう一度お試しください。"
PENDING_EXPIRED = "もう一度メールアドレスとパスワードを入力してください。"
ENROL_SECONDS = 600




def _finish_login(staff: StaffMember, next_path: str | None):
    """Start a fresh staff session (ending any older one in this browser) and go on; the
    browser becomes a known device of the account (its own failure counter from now on)."""
    start_staff_session(staff, client_address())
    staff_svc.record_login(staff, client_address())
    db.session.commit()
    if staff.must_change_password:
        response = redirect(url_for("admin.change_password"))
    else:
        response = redirect(next_path or url_for("admin.index"))
    devices.remember(devices.STAFF, response, devices.issue(devices.STAFF, current_tenant(), staff.email))
    return response


@admin.route("/login", methods=["GET", "POST"])
def login():
    """職員ログイン (step 1: email and password)."""
    tenant: TenantContext = current_tenant()
    next_path = safe_next(request.args.get("next"), prefix="/admin/")
    if request.method == "GET" and g.staff is not None:
        return redirect(next_path or url_for("admin.index"))
    form = StaffLoginForm()
    message, status, wait = None, 200, 0
    if form.validate_on_submit():
        result = staff_svc.authenticate(tenant, form.email.data, form.password.data, client_address(),
                                        devices.presented(devices.STAFF))
        if result.account is not None:
            staff = result.account
            if staff.totp_secret or tenant.settings["admin"]["require_totp"]:
                set_pending(staff)
                db.session.commit()
                step = "admin.login_totp" if staff.totp_secret else "admin.login_totp_setup"
                return redirect(url_for(step, next=next_path))
            return _finish_login(staff, next_path)
        db.session.commit()  # the audit entry of the failure (and the unlock mail)
        if result.throttled:
            message, status, wait = throttled_message(result, THROTTLED), 429, result.retry_after
        else:
            message = INVALID
    return page_response(render("login.html", form=form, message=message, next_path=next_path), status, wait)


@admin.route("/login/unlock/<token>", methods=["GET", "POST"])
def unlock_login(token: str):
    """The mailed unlock link: the button makes this browser a known device of the staff
    member (its own failure counter), once; it logs nobody in."""
    tenant: TenantContext = current_tenant()
    form = ActionForm()
    problem = None
    try:
        if form.validate_on_submit():
            device_token = staff_svc.unlock_device(tenant, token, client_address())
            db.session.commit()
            return devices.unlocked(devices.STAFF, url_for("admin.login"), device_token)
        unlock.peek(staff_svc.UNLOCK, tenant, token)
    except unlock.LinkExpired:
        problem = "このURLは有効期限が切れています。"
    except unlock.LinkInvalid:
        problem = "このURLは無効です。すでに使用済みか、URLが正しくない可能性があります。"
    body = render("unlock.html", form=form, problem=problem)
    return token_page(page_response(body, 400 if problem else 200))


@admin.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    """職員ログイン (step 2: the authenticator app's code)."""
    tenant: TenantContext = current_tenant()
    staff = pending_staff(tenant)
    next_path = safe_next(request.args.get("next"), prefix="/admin/")
    if staff is None or not staff.totp_secret:
        flash(PENDING_EXPIRED, "info")
        return redirect(url_for("admin.login"))
    form = TotpForm()
    status, wait = 200, 0
    if form.validate_on_submit():
        result = staff_svc.verify_totp(tenant, staff, form.code.data, client_address())
        if result.account is not None:
            return _finish_login(staff, next_path)
        db.session.commit()
        if result.throttled:
            drop_pending()
            status, wait = 429, result.retry_after
            form.code.errors.append(THROTTLED.format(minutes=wait_minutes(wait)))
        else:
            form.code.errors.append(INVALID_CODE)
    return page_response(render("login_totp.html", form=form, next_path=next_path), status, wait)


# --- TOTP enrolment: the candidate secret travels signed in the form, nothing is stored on GET.

def _enrol_serializer(tenant: TenantContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"staff-totp-enrol:{tenant.id}")


def _enrol_secret(tenant: TenantContext, staff: StaffMember, token: str | None) -> str | None:
    try:
        data = _enrol_serializer(tenant).loads(token or "", max_age=ENROL_SECONDS)
    except BadSignature:
        return None
    return data.get("secret") if isinstance(data, dict) and data.get("staff") == staff.id else None


def _enrol(tenant: TenantContext, staff: StaffMember, form: TotpEnrolForm) -> bool:
    """Validate an enrolment POST; on success the second factor is on (flushed)."""
    secret = _enrol_secret(tenant, staff, form.secret_token.data)
    if request.method == "POST" and secret is None:
        form.code.errors = ["画面の有効期限が切れました。新しい設定キーで、もう一度登録してください。"]
    elif form.validate_on_submit():
        try:
            staff_svc.enable_totp(staff, secret, form.code.data, client_address())
            return True
        except staff_svc.StaffError as exc:
            form.code.errors = [*form.code.errors, exc.message]
    if secret is None or request.method == "GET":
        secret = new_totp_secret()
        form.secret_token.data = _enrol_serializer(tenant).dumps({"staff": staff.id, "secret": secret})
    g.enrol_secret = secret
    return False


def _enrol_page(tenant: TenantContext, staff: StaffMember, form: TotpEnrolForm, action: str, required: bool):
    secret = g.enrol_secret
    uri = staff_svc.provisioning_uri(tenant, staff, secret)
    return render(
        "totp_setup.html", form=form, action=action, required=required, enrol_staff=staff,
        secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        uri=uri, qr_svg=qr.svg(uri, title="2段階認証の設定用QRコード", css_class="totp-qr"),
    )


@admin.route("/login/totp-setup", methods=["GET", "POST"])
def login_totp_setup():
    """The city requires a second factor and this staff member has none yet: enrol, then log in."""
    tenant: TenantContext = current_tenant()
    staff = pending_staff(tenant)
    next_path = safe_next(request.args.get("next"), prefix="/admin/")
    if staff is None:
        flash(PENDING_EXPIRED, "info")
        return redirect(url_for("admin.login"))
    form = TotpEnrolForm()
    if _enrol(tenant, staff, form):
        return _finish_login(staff, next_path)
    action = url_for("admin.login_totp_setup", next=next_path)
    return _enrol_page(tenant, staff, form, action, required=True)


@admin.post("/logout")
@staff_required()
def logout():
    """ログアウト: the session row ends, the old cookie is worthless afterwards."""
    staff: StaffMember = g.staff
    end_staff_session("logout")
    audit.record(staff.actor, "staff.logout", target=staff.email, remote_addr=client_address())
    db.session.commit()
    flash("ログアウトしました。", "info")
    return redirect(url_for("admin.login"))


@admin.route("/account/password", methods=["GET", "POST"])
@staff_required()
def change_password():
    """パスワード変更 (forced after a one-time password)."""
    tenant: TenantContext = current_tenant()
    staff: StaffMember = g.staff
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            staff_svc.change_password(tenant, staff, form.current_password.data, form.password.data, client_address())
        except staff_svc.StaffError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            start_staff_session(staff, client_address())  # the old sessions ended with the change
            db.session.commit()
            flash("パスワードを変更しました。", "info")
            return redirect(url_for("admin.account"))
    policy = staff_svc.staff_policy(tenant)
    return render("password.html", form=form, policy=policy, forced=staff.must_change_password)


@admin.route("/account/totp", methods=["GET", "POST"])
@staff_required()
def account_totp():
    """2段階認証の設定 from the account page."""
    tenant: TenantContext = current_tenant()
    staff: StaffMember = g.staff
    if staff.totp_secret:
        return redirect(url_for("admin.account"))
    form = TotpEnrolForm()
    if _enrol(tenant, staff, form):
        db.session.commit()
        flash("2段階認証を有効にしました。次回のログインから確認コードが必要です。", "info")
        return redirect(url_for("admin.account"))
    required = tenant.settings["admin"]["require_totp"]
    return _enrol_page(tenant, staff, form, url_for("admin.account_totp"), required=required)


@admin.post("/account/totp/disable")
@staff_required()
def account_totp_disable():
    """Turn one's own second factor off (refused when the city requires it)."""
    staff: StaffMember = g.staff
    try:
        staff_svc.disable_totp(current_tenant(), staff, staff, client_address())
    except staff_svc.StaffError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.account"))
    db.session.commit()
    flash("2段階認証を解除しました。", "info")
    return redirect(url_for("admin.account"))
