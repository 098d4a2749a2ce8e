"""POST /language: the language switch on every citizen page (base.html).

The choice is remembered in the ``lang`` cookie and, for a logged-in member, on the member
(their mail follows it). Only the city's languages are accepted; anything else is a 400.
"""
from __future__ import annotations

from flask import abort, redirect, request
from flask_login import current_user

from waterportal.accounts.blueprint import accounts
from waterportal.accounts.language import set_member_language
from waterportal.core.i18n import COOKIE, COOKIE_MAX_AGE, offered_languages
from waterportal.core.web import safe_next
from waterportal.extensions import db


@accounts.post("/language")
def switch_language():
    code = request.form.get("lang", "")
    if code not in offered_languages():
        abort(400)
    if current_user.is_authenticated:
        set_member_language(current_user, code)
        db.session.commit()
    response = redirect(safe_next(request.form.get("next")) or "/", code=303)
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, secure=request.is_secure, httponly=True,
                        samesite="Lax")
    return response
