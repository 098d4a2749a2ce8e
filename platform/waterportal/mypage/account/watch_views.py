"""見守り (issue 14 §6) on the member's notification settings: set a family member's address and
a number of days for one contract with daily readings; the address is verified by a code mailed
to it before anything else is sent there (readings.watch has the rules).

Routes on the ``profile`` blueprint (``Cache-Control: no-store`` like every profile page);
every change is a POST with the CSRF token; a refused form re-renders with the input kept and
the message at its field.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import login_required

from waterportal.accounts.registration.forms import CodeForm
from waterportal.accounts.verification import ResendTooSoon, message_for, resend_message
from waterportal.core.text import normalise_email
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.mypage.account.blueprint import member, page, profile
from waterportal.mypage.account.watch_forms import WatchForm
from waterportal.readings.watch import (
    WatchError,
    confirm_watch,
    current_watch,
    remove_watch,
    resend_watch_code,
    set_watch,
    watchable_contracts,
)
from waterportal.tenancy.context import TenantContext, current_tenant


def _ttl(tenant: TenantContext) -> int:
    return tenant.settings["registration"]["code_ttl_minutes"]


def _choices(contracts: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    # As the contract switcher writes them: 「自宅(00012345678)」, or the bare number.
    return [(cid, f"{label}({number})" if label else number) for cid, label, number in contracts]


@profile.route("/profile/watch", methods=["GET", "POST"])
@login_required
def watch():
    """見守りの設定: the contract, the family address and the days; a new address gets a code."""
    tenant: TenantContext = current_tenant()
    current = member()
    contracts = watchable_contracts(current)
    existing = current_watch(current)
    data = None
    if request.method == "GET" and existing is not None:
        data = {"contract_id": str(existing.contract_id), "email": existing.email, "days": str(existing.days)}
    form = WatchForm(_choices(contracts), current.email, data=data)
    if contracts and form.validate_on_submit():
        try:
            mailed = set_watch(tenant, current, contract_id=int(form.contract_id.data),
                               email=normalise_email(form.email.data), days=int(form.days.data),
                               ttl_minutes=_ttl(tenant), remote_addr=client_address())
        except WatchError as exc:
            db.session.rollback()
            form[exc.field].errors = [exc.message]
        except ResendTooSoon as exc:
            db.session.rollback()
            form.email.errors = [resend_message(exc.seconds)]
        else:
            db.session.commit()
            if mailed:
                flash(gettext("%(email)s 宛に認証コードを送信しました。", email=normalise_email(form.email.data)), "info")
                return redirect(url_for(".watch_verify"))
            flash(gettext("見守りの設定を変更しました。"), "info")
            return redirect(url_for(".notifications"))
    return page("watch.html", form=form, contracts=contracts, watch=existing, ttl=_ttl(tenant))


@profile.route("/profile/watch/verify", methods=["GET", "POST"])
@login_required
def watch_verify():
    """The code the family member received: typed in here, it starts 見守り."""
    tenant: TenantContext = current_tenant()
    current = member()
    pending = current_watch(current)
    if pending is None or pending.verified_at is not None:
        return redirect(url_for(".watch"))
    address = pending.email
    form = CodeForm()
    if form.validate_on_submit():
        result = confirm_watch(tenant, current, form.code.data, client_address())
        db.session.commit()  # a wrong try counts
        if result.ok:
            flash(gettext("見守りを開始しました。"), "info")
            return redirect(url_for(".notifications"))
        form.code.errors.append(message_for(result, _ttl(tenant)))
    return page("watch_verify.html", form=form, address=address, ttl=_ttl(tenant))


@profile.post("/profile/watch/resend")
@login_required
def watch_resend():
    """A new code to the address waiting for its verification."""
    try:
        address = resend_watch_code(current_tenant(), member(), _ttl(current_tenant()))
    except WatchError:
        db.session.rollback()
        return redirect(url_for(".watch"))
    except ResendTooSoon as exc:
        db.session.rollback()
        flash(resend_message(exc.seconds), "error")
        return redirect(url_for(".watch_verify"))
    db.session.commit()
    flash(gettext("%(email)s 宛に新しい認証コードを送信しました。以前の認証コードは使えません。", email=address), "info")
    return redirect(url_for(".watch_verify"))


@profile.post("/profile/watch/stop")
@login_required
def watch_stop():
    """Stop 見守り: the setting is deleted, nothing more is mailed to the family address."""
    if remove_watch(member(), client_address()):
        db.session.commit()
        flash(gettext("見守りを終了しました。"), "info")
    return redirect(url_for(".notifications"))


@profile.context_processor
def _watch_status():
    # The notification settings page shows the 見守り state; the query runs only where a
    # template calls member_watch().
    return {"member_watch": lambda: current_watch(member())}
