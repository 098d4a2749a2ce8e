"""POST /language: the language switch on every citizen page (base.html).

The choice is remembered in the ``lang`` cookie and, for a logged-in member, on the member
(their mail follows it). Only the city's languages are accepted; anything else is a 400.

At login the two meet: a language chosen on this device (the cookie) becomes the member's;
without one, the member's stored language is set in the cookie, so a member's pages follow
their choice on a new device too.
"""
from __future__ import annotations

from flask import Response, abort, g, redirect, request
from flask_login import current_user, user_logged_in

from waterportal.accounts.blueprint import accounts
from waterportal.accounts.language import set_member_language
from waterportal.core.i18n import COOKIE, COOKIE_MAX_AGE, offered_languages
from waterportal.core.web import safe_next
from waterportal.extensions import db


def _set_cookie(response: Response, code: str) -> None:
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, secure=request.is_secure, httponly=True,
                        samesite="Lax")


@accounts.post("/language")
def switch_language():
    code = request.form.get("lang", "")
    if code not in offered_languages():
        abort(400)
    if current_user.is_authenticated:
        set_member_language(current_user, code)
        db.session.commit()
    response = redirect(safe_next(request.form.get("next")) or "/", code=303)
    _set_cookie(response, code)
    return response


@user_logged_in.connect
def _language_at_login(_sender, user, **_extra) -> None:
    """The cookie's language becomes the member's (the login's commit stores it); without a
    cookie, the member's language is sent in one (after the response is made)."""
    offered = offered_languages()
    chosen = request.cookies.get(COOKIE)
    if chosen in offered:
        set_member_language(user, chosen)
    elif user.language in offered:
        g.language_for_cookie = user.language


@accounts.after_app_request
def _send_language_cookie(response: Response) -> Response:
    code = g.pop("language_for_cookie", None)
    if code:
        _set_cookie(response, code)
    return response
