"""Blueprint ``admin``: staff loading, response headers and the template helper."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from waterportal.core.web import console_headers

admin = Blueprint(
    "admin", __name__, url_prefix="/admin", template_folder="templates",
    static_folder="static", static_url_path="/static",
)


# Console pages hold city data: never cached (framing, referrer: pipeline.add_security_headers).
admin.after_request(console_headers)


def render(name: str, **context) -> str:
    """Render ``admin/<name>`` with flask.render_template: a bare name, never the city chain."""
    context.setdefault("staff", g.get("staff"))
    return render_template(f"admin/{name}", **context)



MAX_PAGE = 100_000


def page_arg() -> int:
    """The ``?page=`` of a paged list: 1 when missing or not a number, never past MAX_PAGE
    (a huge number would overflow the database's OFFSET)."""
    return min(MAX_PAGE, max(1, request.args.get("page", 1, type=int) or 1))

