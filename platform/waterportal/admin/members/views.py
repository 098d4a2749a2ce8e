"""会員サポート (admins and operators): search, a member's status, and the support actions.

Operators may take every action here: lifting a throttle, resending a code, ending
sessions and unlinking a contract are what a support call needs, none of them reveals
or changes a secret, and each is audited. Every action is a POST with a CSRF token.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from waterportal.accounts.registration.services import format_date_ja
from waterportal.admin.audit_views import ACTIONS, actor_names
from waterportal.admin.blueprint import admin, page_arg, render
from waterportal.admin.forms import ActionForm
from waterportal.admin.members import services as support
from waterportal.admin.members.forms import MemberSearchForm
from waterportal.admin.sessions import staff_required
from waterportal.audit import services as audit
from waterportal.billing.issuing import member_bill_document, search_documents
from waterportal.core.files import private_download
from waterportal.core.time import local_now
from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.mypage.account import services as profile_services
from waterportal.mypage.usage.forms import DocumentSearchForm, issuer_choices
from waterportal.tenancy.context import current_tenant


def _member_or_404(member_id: int):
    member = support.get_member(current_tenant(), member_id)
    if member is None:
        abort(404)
    return member


def _back(member_id: int):
    return redirect(url_for("admin.member_detail", member_id=member_id))


@admin.get("/members")
@staff_required()
def members():
    """会員の検索: お客様番号, メールアドレス, ログインID or お客様氏名カナ."""
    form = MemberSearchForm(request.args)
    results = None
    if request.args.get("q") is not None and form.validate():
        page = page_arg()
        results = support.search_members(current_tenant(), form.kind.data, form.q.data, page)
    return render("members.html", title="会員サポート", form=form, results=results,
                  args={"kind": form.kind.data, "q": form.q.data or ""})


@admin.get("/members/<int:member_id>")
@staff_required()
def member_detail(member_id: int):
    """One member's status: verification, contracts, logins, sessions, throttles, history."""
    tenant = current_tenant()
    member = _member_or_404(member_id)
    today = local_now(tenant.timezone).date()
    visible = member.data_visible_from
    return render(
        "member.html", title=f"会員情報 {member.email}", member=member, form=ActionForm(),
        links=profile_services.member_links(tenant, member),
        pending=profile_services.pending_email_change(member),
        sessions=support.live_session_count(tenant, member), throttles=support.member_throttles(tenant, member),
        history=support.member_history(member), labels=ACTIONS, names=actor_names(),
        visible_text=format_date_ja(visible) if visible else None, visible_now=visible is None or visible <= today,
    )


@admin.post("/members/<int:member_id>/throttles/clear")
@staff_required()
def member_clear_throttle(member_id: int):
    """Lift one of the member's throttles (「制限を解除」)."""
    member = _member_or_404(member_id)
    try:
        found = support.clear_member_throttle(current_tenant(), member, request.form.get("throttle", ""), g.staff.actor,
                                              client_address())
    except support.SupportError as exc:
        flash(exc.message, "error")
        return _back(member.id)
    db.session.commit()
    flash(f"「{found.label}」の制限を解除しました。", "info")
    return _back(member.id)


@admin.post("/members/<int:member_id>/verification/resend")
@staff_required()
def member_resend_verification(member_id: int):
    """Send a new code for the member's open email change (the citizen's own limits apply)."""
    member = _member_or_404(member_id)
    try:
        email = support.resend_email_change_code(current_tenant(), member, g.staff.actor, client_address())
    except support.SupportError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(member.id)
    db.session.commit()
    flash(f"{email} 宛てに新しい確認コードを送信しました。", "info")
    return _back(member.id)


@admin.post("/members/<int:member_id>/sessions/end")
@staff_required()
def member_end_sessions(member_id: int):
    """Log the member out on every device."""
    member = _member_or_404(member_id)
    ended = support.end_all_sessions(member, g.staff.actor, client_address())
    db.session.commit()
    flash(f"すべてのログイン状態を終了しました({ended}件)。", "info")
    return _back(member.id)


@admin.route("/members/<int:member_id>/contracts/<int:link_id>/unlink", methods=["GET", "POST"])
@staff_required()
def member_unlink_contract(member_id: int, link_id: int):
    """Unlink a contract from the member: a confirmation page (GET), then the change (POST)."""
    member = _member_or_404(member_id)
    link = profile_services.get_link(current_tenant(), member, link_id)
    if link is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        contract = support.unlink_contract(current_tenant(), member, link_id, g.staff.actor, client_address())
        db.session.commit()
        number = contract.customer_number if contract else ""
        flash(f"お客様番号 {number} の登録を解除しました。", "info")
        return _back(member.id)
    contract = next((c for lnk, c in profile_services.member_links(current_tenant(), member) if lnk.id == link.id), None)
    return render("member_unlink.html", title="契約の登録解除", member=member, link=link, contract=contract,
                  form=form)


@admin.get("/members/<int:member_id>/documents")
@staff_required()
def member_documents(member_id: int):
    """The bill PDFs issued for a member's contracts, searched by 発行日, 金額 and 発行者 (as the
    member's own 書類ダウンロード: 電子帳簿保存法's 検索要件), with their SHA-256."""
    tenant = current_tenant()
    member = _member_or_404(member_id)
    links = profile_services.member_links(tenant, member)
    form = DocumentSearchForm(request.args, issuers=issuer_choices(tenant))
    found, status = [], 200
    if form.validate():
        found = search_documents([contract.id for _link, contract in links], **form.criteria())
    else:
        status = 422
    numbers = {contract.id: contract.customer_number for _link, contract in links}
    return render("member_documents.html", title=f"検針票・請求書の検索 {member.email}", member=member, form=form,
                  found=found, numbers=numbers, searched=bool(request.args)), status


@admin.get("/members/<int:member_id>/documents/<bigint:issued_id>")
@staff_required()
def member_document_download(member_id: int, issued_id: int):
    """One issued bill PDF of the member's contracts, as stored; the download is audited."""
    member = _member_or_404(member_id)
    document = member_bill_document(member.id, issued_id)
    if document is None:
        abort(404)
    audit.record(g.staff.actor, "bill_document.downloaded", target=f"member:{member.id}",
                 remote_addr=client_address(), issued_id=document.id, bill_id=document.bill_id,
                 version=document.version, sha256=document.sha256)
    db.session.commit()
    return private_download(document.data, document.filename, "application/pdf")
