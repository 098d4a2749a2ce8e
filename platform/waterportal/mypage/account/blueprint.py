"""Blueprint ``profile`` under ``/mypage``: ⑦ 会員登録情報の照会・変更 (:mod:`.views`), ⑧ 退会 and
⑨ 各種お手続き (:mod:`.contract_views`), and the helpers both view modules use."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from waterportal.mypage.account.errors import ProfileError
from waterportal.tenancy.templating import render_page

profile = Blueprint("profile", __name__, url_prefix="/mypage")
TITLE = _l("会員登録情報の照会・変更")


def member():
    """The logged-in member (the real object, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def show_error(form, error: ProfileError) -> None:
    """Put a service's refusal next to its field (or on the form when it names none)."""
    target = form[error.field] if error.field and error.field in form else None
    if target is not None:
        target.errors = list(target.errors or []) + error.messages
    else:
        form.form_errors.extend(error.messages)


def page(name: str, **context):
    """A profile page through the city's template chain."""
    context.setdefault("title", TITLE)
    return render_page(f"profile/{name}", **context)
