"""操作ログ (admins only): the city's audit log with filters, and a CSV export Excel opens."""
from __future__ import annotations

import datetime as dt
import json

from flask import Response, request
from sqlalchemy import Select, or_, select

from waterportal.admin.blueprint import admin, page_arg, render
from waterportal.admin.forms import AuditFilterForm
from waterportal.admin.models import StaffMember
from waterportal.admin.sessions import staff_required
from waterportal.audit.models import AuditEntry
from waterportal.core.spreadsheet import excel_csv
from waterportal.core.time import city_midnight_utc, city_time_text, utcnow_naive
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant

PAGE_SIZE = 50
ACTIONS = {
    "staff.login": "ログイン",
    "staff.login_failed": "ログイン失敗",
    "staff.login_throttled": "ログイン制限中の試行",
    "staff.login_slowed": "ログイン待ち時間の開始(解除メール送信)",
    "staff.login_unlocked": "ログイン制限の解除(解除メールのURL)",
    "staff.logout": "ログアウト",
    "staff.password_change": "パスワード変更",
    "staff.totp_enable": "2段階認証の設定",
    "staff.totp_disable": "2段階認証の解除",
    "keys.rotate": "2段階認証の設定キーの再暗号化",
    "staff.create": "職員の追加",
    "staff.disable": "職員の無効化",
    "staff.enable": "職員の有効化",
    "settings.change": "設定の変更",
    "settings.rollback": "設定を戻す",
    "asset.upload": "画像のアップロード",
    "notice.create": "お知らせの作成",
    "notice.update": "お知らせの編集",
    "notice.delete": "お知らせの削除",
    "notice.mail": "お知らせのメール配信",
    "area_alert.publish": "地区別のお知らせの公開",
    "area_alert.withdraw": "地区別のお知らせの取り下げ",
    "area_alert.mail": "地区別のお知らせのメール配信",
    "tenant.apply": "設定ファイルの適用",
    "tenant.add_host": "ホストの追加",
    "tenant.disable": "市町村の停止",
    "tenant.enable": "市町村の再開",
    "member.throttle_cleared": "会員の制限解除",
    "member.verification_resent": "確認コードの再送信",
    "member.sessions_ended": "会員のログアウト(全端末)",
    "member.contract_unlinked": "会員の契約登録解除",
    "import.upload": "データの取り込み",
    "inquiry.answered": "お問い合わせを回答済みに",
    "inquiry.reopened": "お問い合わせを未対応に",
    "procedure.status": "お手続きの状態の変更",
    "procedure.assigned": "お手続きの担当者の設定",
    "procedure.file_downloaded": "お手続きの添付ファイルのダウンロード",
    "bill_document.downloaded": "会員の検針票・請求書(発行済みPDF)のダウンロード",
    "procedure.export": "お手続きの料金システムへの出力",
    "procedure.status_import": "料金システムからのお手続きの状態の取り込み",
    "bill.payment_import": "収納結果の取り込み",
    "procedure.contract_linked": "使用開始の契約を会員に登録",
    "vendor.city_link": "ベンダー管理画面からのリンク発行",
    "vendor.login": "ベンダーのログイン",
    "vendor.city_link_refused": "ベンダー管理画面からのリンクの拒否(2段階認証なし)",
    "mail.retry": "未送信メールの再送",
    "mail.expired": "有効期限切れの確認コードのメールを送信せず破棄",
    "mail.purge": "保存期間を過ぎたメール(送信済み・送信できず)の削除",
    # What citizens do themselves (the same log shows it, so support can follow a member).
    "login": "ログイン(会員)",
    "logout": "ログアウト(会員)",
    "login.slowed": "ログイン待ち時間の開始(会員・解除メール送信)",
    "login.unlocked": "ログイン制限の解除(会員・解除メールのURL)",
    "member.register": "会員登録",
    "member.email_change_requested": "メールアドレス変更の申し込み",
    "member.email_changed": "メールアドレスの変更",
    "member.nickname_changed": "ニックネームの変更",
    "member.notifications_changed": "お知らせメール設定の変更",
    "member.alert_mail_changed": "地区別のお知らせメール設定の変更",
    "member.watch_set": "見守りの設定(確認コード送信)",
    "member.watch_verified": "見守りの送信先の確認",
    "member.watch_removed": "見守りの解除",
    "member.secret_question_changed": "秘密の質問の変更",
    "member.withdrawn": "退会",
    "contract.linked": "お客様番号の追加",
    "contract.labelled": "お客様番号の呼び名の変更",
    "contract.unlinked": "お客様番号の登録解除(会員)",
    "password.changed": "パスワードの変更(会員)",
    "password.reset_requested": "パスワード再設定の申し込み",
    "recovery.link_sent": "秘密の質問による再設定リンクの送信",
    "inquiry.submitted": "メールでのお問い合わせ",
    "procedure.submitted": "各種お手続きの申請",
    "procedure.resubmitted": "各種お手続きの再提出",
    "procedure.debit_sheet_downloaded": "口座振替依頼書のダウンロード",
    "payment_certificate.issued": "収納済証明書の発行",
    "payment_certificate.downloaded": "収納済証明書のダウンロード",
}


def filtered(form: AuditFilterForm, tz_name: str) -> Select:
    """The audit entries of the current city matching the filters, newest first."""
    query = select(AuditEntry)
    actor = (form.actor.data or "").strip()
    if actor:
        people = db.session.scalars(
            select(StaffMember).where(StaffMember.email.contains(actor.lower(), autoescape=True))
        ).all()
        query = query.where(or_(AuditEntry.actor.contains(actor, autoescape=True), AuditEntry.actor.in_([p.actor for p in people])))
    if form.action.data:
        query = query.where(AuditEntry.action == form.action.data.strip())
    if form.start:
        query = query.where(AuditEntry.created_at >= city_midnight_utc(form.start, tz_name))
    if form.end:
        query = query.where(AuditEntry.created_at < city_midnight_utc(form.end + dt.timedelta(days=1), tz_name))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def actor_names() -> dict[str, str]:
    """``staff:<id>`` (``vendor:<id>`` for a vendor's account) -> email, for display."""
    return {s.actor: s.email for s in db.session.scalars(select(StaffMember))}


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    if not form.validate():
        # Bad filters are shown next to their field and ignored, never half-applied.
        for name in form.errors:
            form[name].data = ""
    return form


@admin.get("/audit")
@staff_required("admin")
def audit_log():
    """操作ログ: filter by 操作者, 操作 and 期間 (dates in the city's time zone)."""
    form = _form()
    errors = {name: list(errs) for name, errs in form.errors.items()}
    page = page_arg()
    query = filtered(form, current_tenant().timezone)
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    actions = sorted(set(db.session.scalars(select(AuditEntry.action).distinct())) | set(ACTIONS))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render(
        "audit.html", title="操作ログ", form=form, errors=errors, entries=rows[:PAGE_SIZE], page=page,
        has_next=len(rows) > PAGE_SIZE, actions=actions, labels=ACTIONS, names=actor_names(), args=args,
        detail=lambda e: json.dumps(e.detail or {}, ensure_ascii=False),
    )


@admin.get("/audit.csv")
@staff_required("admin")
def audit_csv():
    """The filtered log as CSV for Excel (UTF-8 with a BOM; formulas typed by anyone neutralised)."""
    tenant = current_tenant()
    form = _form()
    names = actor_names()
    rows = (
        [city_time_text(entry.created_at, tenant.timezone), entry.actor,
         names.get(entry.actor, ""), entry.action, ACTIONS.get(entry.action, ""), entry.target,
         json.dumps(entry.detail or {}, ensure_ascii=False), entry.remote_addr]
        for entry in db.session.scalars(filtered(form, tenant.timezone))
    )
    body = excel_csv(["日時", "操作者", "職員メールアドレス", "操作", "操作の説明", "対象", "詳細", "接続元"], rows)
    stamp = city_time_text(utcnow_naive(), tenant.timezone)[:10]
    return Response(
        body, mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'},
    )
