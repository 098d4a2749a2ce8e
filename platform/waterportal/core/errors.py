"""The platform's HTTP error handlers, registered once (the exception classes are in
:mod:`waterportal.core.exceptions`).

User-facing messages are Japanese; log lines are English and name the tenant slug.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from waterportal.core.database import BUSY_FLAG, RETRY_AFTER_BUSY, RETRY_AFTER_DOWN, is_busy, is_unavailable
from waterportal.extensions import db, login_manager

log = logging.getLogger("waterportal")


MESSAGES = {
    400: ("リクエストが正しくありません", "入力内容をご確認のうえ、もう一度お試しください。"),
    403: ("アクセスできません", "このページを表示する権限がありません。"),
    404: ("ページが見つかりません", "お探しのページは移動または削除された可能性があります。"),
    405: ("操作を受け付けられません", "画面のボタンから操作してください。"),
    413: ("ファイルが大きすぎます", "ファイルの大きさをご確認ください。"),
    429: ("しばらくお待ちください", "短時間に操作が繰り返されました。時間をおいてから再度お試しください。"),
    500: ("エラーが発生しました", "ただいま処理できません。時間をおいてから再度お試しください。"),
    503: ("ただいまご利用いただけません", "システムが一時的に混み合っているか、停止しています。入力内容は保存されていません。"
                                      "お手数ですが、しばらく時間をおいてから再度お試しください。"),
}


CSRF_MESSAGE = "画面の有効期限が切れたか、ログイン状態が変わりました。お手数ですが、前の画面に戻り、再読み込みしてからもう一度送信してください。"


def too_large_message(limit: int | None) -> str:
    """The 413 page's words: the request's limit (``MAX_CONTENT_LENGTH``) and what to do; a
    browser keeps what was typed on going back, but never a chosen file."""
    total = f"(一度に送れるのは合計 {limit // 2**20} MB までです)" if limit else ""
    return (f"送信された内容が大きすぎるため、受け付けられませんでした{total}。"
            "ブラウザの「戻る」で前の画面に戻り、添付するファイルを減らすか小さくしてから、"
            "ファイルを選び直して送信してください。")


CityPage = Callable[..., str]
CurrentCity = Callable[[], object | None]


def render_error(status: int, city_page: CityPage, current_city: CurrentCity, message: str | None = None):
    """Render the error page; inside a city through ``city_page`` (its theme), else the plain core page."""
    title, default_message = MESSAGES.get(status, MESSAGES[500])
    message = message or default_message
    if current_city() is not None:
        return city_page("error.html", title=title, message=message, status=status), status
    return render_template("core/error.html", title=title, message=message, status=status), status


def register_errors(app: Flask, city_page: CityPage, current_city: CurrentCity) -> None:
    """Register one handler for HTTP errors and one for everything unexpected.

    ``city_page`` renders a template through the current city's theme
    (:func:`waterportal.tenancy.templating.render_page`) and ``current_city`` tells the
    request's city (:func:`waterportal.tenancy.context.current_tenant_or_none`); both are
    passed in because core sits below tenancy and never imports it.
    """
    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        # Only a form sent without its page (or after the session ended) gets here.
        log.info("csrf refused: %s", exc.description)
        return render_error(400, city_page, current_city, message=CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        message = too_large_message(app.config.get("MAX_CONTENT_LENGTH")) if status == 413 else None
        return render_error(status, city_page, current_city, message=message)

    def handle_database(exc: Exception):
        """The database is away or busy: nothing of the request is kept (rolled back) and
        the citizen gets the city's 503 page with ``Retry-After``, not a 500."""
        if not is_unavailable(exc):
            return handle_unexpected(exc)
        busy = is_busy(exc)
        _forget_transaction()
        tenant = current_city()
        log.warning("database %s (tenant=%s): %s", "busy" if busy else "unavailable",
                    getattr(tenant, "slug", "-"), str(exc).splitlines()[0])
        if busy:
            request.environ[BUSY_FLAG] = True  # a page view is run again (core/database.py)
        # The page must not touch the database again: no member is loaded for it.
        g._login_user = login_manager.anonymous_user()
        body, status = render_error(503, city_page, current_city)
        return body, status, {"Retry-After": str(RETRY_AFTER_BUSY if busy else RETRY_AFTER_DOWN)}

    app.register_error_handler(sa_exc.SQLAlchemyError, handle_database)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        _forget_transaction()
        tenant = current_city()
        log.exception("unhandled error (tenant=%s)", getattr(tenant, "slug", "-"))
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500, city_page, current_city)


def _forget_transaction() -> None:
    """Roll the request's transaction back, so nothing half-written is ever committed later
    in the request; on a lost connection the rollback itself may fail, which is fine."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError as exc:
        log.info("rollback after a database error failed too: %s", str(exc).splitlines()[0])
