"""The platform's exception hierarchy and its HTTP handlers, registered once.

User-facing messages are Japanese; log lines are English and name the tenant slug.
"""
from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("waterportal")


class WaterportalError(Exception):
    """Base of every error the platform raises on purpose."""


class NoTenantContext(WaterportalError):
    """A tenant-owned table was touched without a tenant context."""


class UnscopedStatement(NoTenantContext):
    """A Core statement on a tenant table that the ORM criteria cannot scope."""


class CrossTenantWrite(WaterportalError):
    """A flush tried to write a row that belongs to another tenant."""


class SettingsInvalid(WaterportalError):
    """A tenant definition or settings change failed validation.

    ``errors`` maps dotted keys (``password_policy.min_length``) to reasons.
    """

    def __init__(self, errors: dict[str, list[str]], source: str = ""):
        self.errors = errors
        self.source = source
        lines = [f"{key}: {'; '.join(reasons)}" for key, reasons in sorted(errors.items())]
        super().__init__(f"{source + ': ' if source else ''}" + " | ".join(lines))


MESSAGES = {
    400: ("リクエストが正しくありません", "入力内容をご確認のうえ、もう一度お試しください。"),
    403: ("アクセスできません", "このページを表示する権限がありません。"),
    404: ("ページが見つかりません", "お探しのページは移動または削除された可能性があります。"),
    405: ("操作を受け付けられません", "画面のボタンから操作してください。"),
    413: ("ファイルが大きすぎます", "ファイルの大きさをご確認ください。"),
    429: ("しばらくお待ちください", "短時間に操作が繰り返されました。時間をおいてから再度お試しください。"),
    500: ("エラーが発生しました", "ただいま処理できません。時間をおいてから再度お試しください。"),
}


CSRF_MESSAGE = "画面の有効期限が切れたか、ログイン状態が変わりました。お手数ですが、前の画面に戻り、再読み込みしてからもう一度送信してください。"


def render_error(status: int, message: str | None = None):
    """Render the error page; inside a city it uses the city's theme, else the plain core page."""
    from waterportal.tenancy.templating import render_page

    title, default_message = MESSAGES.get(status, MESSAGES[500])
    message = message or default_message
    if getattr(g, "tenant", None) is not None:
        return render_page("error.html", title=title, message=message, status=status), status
    return render_template("core/error.html", title=title, message=message, status=status), status


def register_errors(app: Flask) -> None:
    """Register one handler for HTTP errors and one for everything unexpected."""
    from waterportal.extensions import db

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        # Only a form sent without its page (or after the session ended) gets here.
        log.info("csrf refused: %s", exc.description)
        return render_error(400, message=CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        db.session.rollback()
        tenant = getattr(g, "tenant", None)
        log.exception("unhandled error (tenant=%s)", tenant.slug if tenant else "-")
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500)
