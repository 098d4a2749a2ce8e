"""会員登録 (citizen registration), steps 1/4 to 4/4, in both cities' styles.

Email cities (Nayoro) and login-ID cities (Kanazawa) share the flow: verify an email
address with a six-digit code, enter details and the contract, confirm, done. The
login-ID style adds ログインID and 秘密の質問. State lives server-side in a
:class:`~waterportal.accounts.registration.drafts.RegistrationDraft`; the browser only
holds its token. GET never changes anything; every POST carries a CSRF token (CSRFProtect checks
them all, so the button-only forms use the ``csrf_token()`` template global).
"""
from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from waterportal.accounts.models import Member
from waterportal.accounts.registration.blueprint import registration
from waterportal.accounts.registration.drafts import (
    SESSION_KEY,
    current_draft,
    discard_draft,
    start_draft,
)
from waterportal.accounts.registration.forms import (
    CodeForm,
    DetailsForm,
    EmailForm,
    login_id_rule,
)
from waterportal.accounts.registration.services import (
    RegistrationRefused,
    complete_registration,
    save_details,
    send_registration_code,
    verify_registration_code,
)
from waterportal.accounts.verification import ResendTooSoon, message_for, resend_message
from waterportal.contracts.models import MemberContract
from waterportal.contracts.services import (
    NOT_FOUND,
    REASON_TEXT,
    get_contract,
    throttle_message,
)
from waterportal.core.auth.passwords import policy_lines
from waterportal.core.text import normalise_email
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant
from waterportal.tenancy.templating import city_template, render_page

DONE_KEY = "registration_done"
# The 口座振替 application and its choice (procedures/catalog/payment_method.py: KEY, DEBIT; the
# procedures feature sits above accounts, so they are named here and a test keeps them equal).
DEBIT_KIND, DEBIT_METHOD = "payment_method", "口座振替（新規の申込み・口座の変更）"
EXPIRED = _l("登録の有効期限が切れました。お手数ですが、メールアドレスの登録からやり直してください。")


def login_url() -> str:
    """The login page (「戻る」, 「キャンセル」 and 「ポータルを利用する」 lead there)."""
    return url_for("accounts.login")


def _page(name: str, **context) -> str:
    tenant = current_tenant()
    words = city_template(tenant, "registration/_words.html")
    return render_page(f"registration/{name}", words=words, login_url=login_url(), **context)


def _ttl() -> int:
    return current_tenant().settings["registration"]["code_ttl_minutes"]


def _restart(message: str = EXPIRED):
    flash(str(message), "error")
    return redirect(url_for(".start"))


def _policy_items() -> list[tuple[str, str]]:
    """Policy lines paired with the rule each one states, for the as-you-type check."""
    policy = current_tenant().settings["password_policy"]
    lines = policy_lines(policy)
    keys = ["length"] + [k for k in ("upper", "lower", "digit", "symbol") if policy.get(f"require_{k}")] + ["charset"]
    if len(keys) != len(lines):  # the wording changed shape: show it, check on the server only
        keys = [""] * len(lines)
    return list(zip(keys, lines, strict=True))


def _email_page(draft, email_form: EmailForm, code_form: CodeForm | None = None, status: int = 200):
    return _page("email.html", draft=draft, email_form=email_form, code_form=code_form, ttl=_ttl()), status


@registration.route("/", methods=["GET", "POST"])
def start():
    """1/4 メールアドレス登録: send a code to the address typed."""
    tenant = current_tenant()
    draft = current_draft(tenant)
    form = EmailForm(data={"email": draft.email} if draft else None)
    if form.validate_on_submit():
        new = draft is None
        draft = draft or start_draft(tenant)
        try:
            send_registration_code(tenant, draft, form.email.data, remote_addr=client_address())
        except ResendTooSoon as exc:
            db.session.rollback()
            if new:
                session.pop(SESSION_KEY, None)
            draft = current_draft(tenant)
            if draft is not None and draft.email == normalise_email(form.email.data):
                flash(resend_message(exc.seconds), "error")
                return redirect(url_for(".verify"))
            form.email.errors.append(resend_message(exc.seconds))
            return _email_page(draft, form)
        db.session.commit()
        flash(gettext("%(email)s 宛に認証コードを送信しました。", email=draft.email), "info")
        return redirect(url_for(".verify"))
    return _email_page(draft, form)


@registration.route("/verify", methods=["GET", "POST"])
def verify():
    """1/4 the code from the mail; 次へ leads to 2/4."""
    tenant = current_tenant()
    draft = current_draft(tenant)
    if draft is None or not draft.email:
        return _restart()
    if draft.verified:
        return redirect(url_for(".details"))
    email_form = EmailForm(formdata=None, data={"email": draft.email})
    form = CodeForm()
    if form.validate_on_submit():
        result = verify_registration_code(tenant, draft, form.code.data)
        db.session.commit()
        if result.ok:
            return redirect(url_for(".details"))
        form.code.errors.append(message_for(result, _ttl()))
    return _email_page(draft, email_form, form)


@registration.post("/resend")
def resend():
    """Send a new code to the address of this registration (the old one dies)."""
    tenant = current_tenant()
    draft = current_draft(tenant)
    if draft is None or not draft.email:
        return _restart()
    try:
        send_registration_code(tenant, draft, draft.email, remote_addr=client_address())
    except ResendTooSoon as exc:
        db.session.rollback()
        flash(resend_message(exc.seconds), "error")
        return redirect(url_for(".verify"))
    db.session.commit()
    flash(gettext("%(email)s 宛に新しい認証コードを送信しました。以前の認証コードは使えません。", email=draft.email), "info")
    return redirect(url_for(".verify"))


@registration.get("/help")
def help_page():
    """メールが届かない場合: spam filters, allow-lists, typos, and a resend button."""
    draft = current_draft(current_tenant())
    return _page("help.html", draft=draft)


@registration.route("/details", methods=["GET", "POST"])
def details():
    """2/4 会員情報入力: details, password, contract; matching happens on 確認."""
    tenant = current_tenant()
    draft = current_draft(tenant)
    if draft is None:
        return _restart()
    if not draft.verified:
        flash(gettext("先にメールアドレスの確認(認証コードの入力)を行ってください。"), "error")
        return redirect(url_for(".verify" if draft.email else ".start"))
    kwargs = {} if request.method == "POST" else {"data": DetailsForm.initial(draft.details)}
    form = DetailsForm(
        tenant, draft.email, has_password=draft.password_hash is not None,
        has_answer=draft.secret_answer_hash is not None, **kwargs,
    )
    alert = None
    if form.validate_on_submit():
        answer = form.secret_answer.data if "secret_answer" in form else ""
        outcome = save_details(
            tenant, draft, form.cleaned(), password=form.password.data or "",
            secret_answer=answer or "", remote_addr=client_address(),
        )
        if not outcome.throttled:
            db.session.commit()
            return redirect(url_for(".confirm"))
        alert = throttle_message(outcome.retry_after)
    return _page(
        "details.html", draft=draft, form=form, alert=alert, policy_items=_policy_items(),
        policy=tenant.settings["password_policy"], login_id_rule=login_id_rule(tenant),
    )


@registration.post("/cancel")
def cancel():
    """キャンセル: forget this registration and go back to the login page."""
    discard_draft(current_tenant())
    db.session.commit()
    flash(gettext("会員登録を中止しました。"), "info")
    return redirect(login_url())


@registration.route("/confirm", methods=["GET", "POST"])
def confirm():
    """3/4 確認: everything but the password; 登録 only when a contract matched."""
    tenant = current_tenant()
    draft = current_draft(tenant)
    if draft is None:
        if request.method == "POST" and session.get(DONE_KEY):
            return redirect(url_for(".done"))
        return _restart()
    if not draft.verified:
        return redirect(url_for(".verify"))
    if not draft.details_done:
        return redirect(url_for(".details"))
    error = None
    if request.method == "POST":
        try:
            member = complete_registration(tenant, draft, remote_addr=client_address())
            db.session.commit()
        except RegistrationRefused as exc:
            db.session.rollback()
            error = exc.message
        except IntegrityError:  # a concurrent registration took the address or login ID
            db.session.rollback()
            error = gettext("このメールアドレスまたはログインIDは既に登録されています。入力内容をご確認ください。")
        else:
            session.pop(SESSION_KEY, None)
            session[DONE_KEY] = member.id
            return redirect(url_for(".done"))
        draft = current_draft(tenant)
        if draft is None:
            return _restart()
    contract = get_contract(tenant, draft.contract_id) if draft.contract_id else None
    reasons = [REASON_TEXT[r] for r in draft.match_reasons if r in REASON_TEXT]
    return _page(
        "confirm.html", draft=draft, contract=contract, not_found=NOT_FOUND if contract is None else None,
        reasons=reasons, error=error,
    ), (200 if error is None else 409)


@registration.get("/done")
def done():
    """4/4 会員登録完了, with the date usage and bills become visible."""
    member_id = session.get(DONE_KEY)
    member = None
    if isinstance(member_id, int):
        member = db.session.scalar(select(Member).where(Member.tenant_id == current_tenant().id, Member.id == member_id))
    if member is None:
        return redirect(url_for(".start"))
    # The date is written by the template's day_text filter, in the page's language.
    return _page("done.html", member=member, visible_from=member.data_visible_from, debit_url=_debit_url(member))


def _debit_url(member: Member) -> str:
    """When the new member chose 口座振替 as 「支払方法」 and the city takes 口座振替 applications
    online: the login that leads to that application, for the registered contract, with
    口座振替 chosen (the bank account is what only the member can type). Else ''."""
    tenant = current_tenant()
    choice = tenant.settings["registration"]["debit_payment_method"]
    if not choice or member.payment_method != choice or DEBIT_KIND not in tenant.settings["procedures"]["enabled"]:
        return ""
    contract_id = db.session.scalar(select(MemberContract.contract_id).where(
        MemberContract.tenant_id == tenant.id, MemberContract.member_id == member.id).order_by(MemberContract.id))
    target = url_for("procedures.new", kind=DEBIT_KIND, method=DEBIT_METHOD, contract_id=contract_id)
    return url_for("accounts.login", next=target)
