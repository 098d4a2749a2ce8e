"""The request pipeline: every step a request passes before and after its view, in order.

Read top to bottom; nothing else registers a ``before_request`` hook (a test checks it).

Before the view, each step may answer instead of the view:

1. **City** from the Host header alone (:func:`~waterportal.tenancy.gate.resolve_tenant`):
   an unknown host is a 404 naming no city, a vendor host selects the vendor console.
   First, so every later answer (errors included) is the city's own themed page.
2. **Service hours** (:func:`~waterportal.tenancy.gate.service_gate`): outside the city's
   hours, or while it is disabled, the 503 page with ``Retry-After``, whatever the method.
3. **CSRF** (:func:`check_csrf`): every POST/PUT/PATCH/DELETE carries its form's token.
   Flask-WTF's own hook is off (``WTF_CSRF_CHECK_DEFAULT = False``) so it cannot run
   before the city is known.
4. **Throttles**: there is no request-wide limit. Throttles are keyed by what was typed
   (an account, an email, a customer number) and by the client address, so they are
   checked where that is known: in the services, through :mod:`waterportal.core.throttle`.
5. **Sessions** (:func:`load_sessions`): the member's session on every city page, the
   staff session on the city console, the vendor session on the vendor console.

After the view, :func:`mark_private` keeps pages with personal data out of caches and
:func:`add_security_headers` sets the browser's security headers on every response (error
pages and static files included); at the end of the request, :func:`finish_request` drops
the city context and hands the mail the request committed to the delivery.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from waterportal.accounts.session import refresh_session
from waterportal.admin.sessions import load_staff
from waterportal.core.security_headers import set_security_headers
from waterportal.core.web import no_store
from waterportal.extensions import csrf
from waterportal.mail.delivery import forget_earlier_commits
from waterportal.tenancy.context import current_tenant_or_none
from waterportal.tenancy.gate import clear_tenant, resolve_tenant, service_gate
from waterportal.vendor_console.auth import load_vendor

log = logging.getLogger("waterportal")

# Blueprints whose every page shows personal or city-internal data.
PRIVATE_BLUEPRINTS = frozenset({"portal", "profile", "admin", "vendor", "procedures"})
# Blueprints that never need a session (static files, load balancer checks).
SESSIONLESS_BLUEPRINTS = frozenset({"theme_assets", "health"})
# Views whose URL carries a secret (a mailed token, the vendor's one-time key): they send
# no referrer at all. tests/test_security_headers.py finds every route with a token in
# its path and fails until it is listed here.
TOKEN_ENDPOINTS = frozenset({
    "accounts.reset_password", "accounts.recover_account", "accounts.unlock_login",
    "admin.unlock_login", "admin.vendor_login",
})
# The vendor console sends no referrer at all, and its form into a city's console is
# redirected to the city's host (another origin, which form-action must allow).
VENDOR_BLUEPRINT = "vendor"


def check_csrf() -> None:
    """Refuse a state-changing request without its form's valid token (a 400 through the
    city's error page, see :mod:`waterportal.core.errors`)."""
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect(apply_exemptions=True)


def load_sessions() -> None:
    """Load who is logged in: member on every city page, staff on the console, vendor on
    the vendor console. Expired sessions end here, with the reason flashed."""
    if request.blueprint in SESSIONLESS_BLUEPRINTS:
        return
    if current_tenant_or_none() is not None:
        refresh_session()
        if request.blueprint == "admin":
            load_staff()
    elif g.get("vendor") and request.blueprint == "vendor":
        load_vendor()


# Steps 1, 2, 3 and 5 (step 4 lives in the services, see above), in this order.
BEFORE_VIEW_STEPS = (resolve_tenant, service_gate, check_csrf, load_sessions)


def warn_unread_forwarding() -> None:
    """Once per process: requests come through a proxy (``X-Forwarded-For``) but ProxyFix
    is off (``PROXY_FIX_X_FOR = 0``), so every citizen has the proxy's address and all of
    them share one per-address throttle."""
    if "X-Forwarded-For" not in request.headers or current_app.config.get("PROXY_FIX_X_FOR"):
        return
    if not current_app.extensions.get("waterportal.forwarding_warned"):
        current_app.extensions["waterportal.forwarding_warned"] = True
        log.warning("requests carry X-Forwarded-For but PROXY_FIX_X_FOR is 0: every client shares the "
                    "proxy's address and its throttles; set FLASK_PROXY_FIX_X_FOR to the number of proxies")


def run_before_view() -> Response | None:
    """The steps in order; the first answer stops the request."""
    forget_earlier_commits()
    warn_unread_forwarding()
    for step in BEFORE_VIEW_STEPS:
        answer = step()
        if answer is not None:
            return answer
    return None


def _shows_personal_data() -> bool:
    if request.blueprint in PRIVATE_BLUEPRINTS or g.get("staff") or g.get("vendor_staff"):
        return True
    # Only ask Flask-Login when a login cookie exists: asking loads the member.
    return current_tenant_or_none() is not None and "_user_id" in session and current_user.is_authenticated


def mark_private(response: Response) -> Response:
    """``Cache-Control: no-store`` on every page with personal data (a shared computer's
    back button or a proxy must not show it), unless the view chose a cache policy."""
    if "Cache-Control" not in response.headers and _shows_personal_data():
        no_store(response)
    return response


def add_security_headers(response: Response) -> Response:
    """CSP, framing, sniffing, referrer, permissions and (production) HSTS on every
    response; the policy is :mod:`waterportal.core.security_headers`."""
    vendor = request.blueprint == VENDOR_BLUEPRINT
    return set_security_headers(
        response,
        no_referrer=vendor or request.endpoint in TOKEN_ENDPOINTS,
        hsts_max_age=current_app.config.get("HSTS_MAX_AGE", 0),
        form_targets=f"{request.scheme}:" if vendor else "",
    )


def finish_request(_exc: BaseException | None = None) -> None:
    """Drop the city context, then deliver the mail this request committed. A teardown,
    not an after-request hook: mail committed before an error is still delivered."""
    clear_tenant()
    app = current_app._get_current_object()  # the real app: the mail thread outlives the request
    app.extensions["waterportal.mail"].after_request(app)


def register_request_pipeline(app: Flask) -> None:
    """Install the pipeline: one hook before the view, two after it, one at the end."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(run_before_view)
    app.after_request(mark_private)
    app.after_request(add_security_headers)
    app.teardown_request(finish_request)
