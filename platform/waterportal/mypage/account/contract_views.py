"""⑧ 退会のお手続き and ⑨ 各種お手続き, on blueprint ``profile``."""
from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required, logout_user

from waterportal.accounts.session import clear_citizen_session
from waterportal.contracts.services import NOT_FOUND, REASON_TEXT, throttle_message
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.mypage.account import services
from waterportal.mypage.account.blueprint import member, page, profile, show_error
from waterportal.mypage.account.errors import ProfileError
from waterportal.mypage.account.forms import (
    AddContractForm,
    LabelForm,
    RemoveLinkForm,
    WithdrawForm,
)
from waterportal.procedures import paperless_state
from waterportal.tenancy.context import TenantContext, current_tenant

WITHDRAWN_KEY = "withdrawn"
# Link ids are INTEGER columns: a larger number in the address is a 404, not a database error.
LINK_ID = "<int(max=2147483647):link_id>"
CONTRACTS_TITLE = _l("各種お手続き")


# --- ⑧ 退会のお手続き ---------------------------------------------------------------------

@profile.route("/withdraw", methods=["GET", "POST"])
@login_required
def withdraw():
    """What withdrawal deletes and what stays; confirmed with the password."""
    tenant: TenantContext = current_tenant()
    current = member()
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_member(tenant, current, form.password.data, client_address())
        except ProfileError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            logout_user()
            clear_citizen_session()  # a staff session in the same browser survives
            db.session.commit()
            session[WITHDRAWN_KEY] = True
            return redirect(url_for(".withdrawn"))
    links = services.member_links(tenant, current)
    return page("withdraw.html", title=gettext("退会のお手続き"), form=form, member=current, links=links)


@profile.get("/withdrawn")
def withdrawn():
    """退会完了 (shown once, right after withdrawal)."""
    if not session.pop(WITHDRAWN_KEY, False):
        return redirect(url_for("accounts.login"))
    return page("withdrawn.html", title=gettext("退会のお手続き"))


# --- ⑨ 各種お手続き: contracts ----------------------------------------------------------

def _contracts_page(form: AddContractForm, reasons: list[str] | None = None, alert: str | None = None, status: int = 200):
    tenant: TenantContext = current_tenant()
    links = services.member_links(tenant, member())
    # 検針票 ペーパーレス: each contract's state, when the city offers it (one query).
    paperless = (paperless_state.states(tenant, [contract.id for _, contract in links])
                 if paperless_state.KEY in tenant.settings["procedures"]["enabled"] else None)
    body = page(
        "contracts.html", title=CONTRACTS_TITLE, form=form, links=links, reasons=reasons or [],
        not_found=NOT_FOUND if reasons else None, alert=alert, max_links=services.MAX_LINKS, paperless=paperless,
    )
    return body, status


@profile.get("/contracts")
@login_required
def contracts():
    """The member's contracts (with their labels) and the form to add another."""
    return _contracts_page(AddContractForm(current_tenant(), formdata=None))


@profile.post("/contracts")
@login_required
def contract_add():
    """Add another contract: matched exactly as at registration."""
    tenant: TenantContext = current_tenant()
    form = AddContractForm(tenant)
    if not form.validate_on_submit():
        return _contracts_page(form)
    try:
        outcome = services.add_contract_link(
            tenant, member(), form.customer_number.data, form.phone.data, form.holder_kana.data,
            label=form.label.data or "", remote_addr=client_address(),
        )
    except ProfileError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _contracts_page(form)
    if outcome.retry_after:
        return _contracts_page(form, alert=throttle_message(outcome.retry_after), status=429)
    if not outcome.linked:
        return _contracts_page(form, reasons=[REASON_TEXT[r] for r in outcome.reasons if r in REASON_TEXT])
    db.session.commit()
    flash(gettext("お客様番号を追加しました。"), "info")
    return redirect(url_for(".contracts"))


def _own_link(link_id: int):
    link = services.get_link(current_tenant(), member(), link_id)
    if link is None:
        abort(404)
    return link


def _contract_of(link):
    return next(contract for own, contract in services.member_links(current_tenant(), member()) if own.id == link.id)


@profile.route(f"/contracts/{LINK_ID}/label", methods=["GET", "POST"])
@login_required
def contract_label(link_id: int):
    """呼び名の変更 (「自宅」「実家」); shown in the dashboard's contract switcher."""
    link = _own_link(link_id)
    form = LabelForm(data={"label": link.label} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.label_contract(current_tenant(), member(), link_id, form.label.data or "", client_address())
        except ProfileError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("呼び名を変更しました。"), "info")
            return redirect(url_for(".contracts"))
    return page("contract_label.html", title=CONTRACTS_TITLE, form=form, link=link, contract=_contract_of(link))


@profile.route(f"/contracts/{LINK_ID}/remove", methods=["GET", "POST"])
@login_required
def contract_remove(link_id: int):
    """Remove a link after a confirmation page (the contract itself is the city's and stays)."""
    link = _own_link(link_id)
    contract = _contract_of(link)
    form = RemoveLinkForm()
    if form.validate_on_submit():
        try:
            services.remove_contract_link(current_tenant(), member(), link_id, client_address())
        except ProfileError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(gettext("お客様番号 %(number)s の登録を削除しました。", number=contract.customer_number), "info")
        return redirect(url_for(".contracts"))
    return page("contract_remove.html", title=CONTRACTS_TITLE, form=form, link=link, contract=contract)
