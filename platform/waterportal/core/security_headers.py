"""The browser's security headers, one policy for every response (set by the request
pipeline's after-view step, :func:`waterportal.pipeline.add_security_headers`).

The Content-Security-Policy allows nothing inline: every script and stylesheet is a file
served by the portal itself (a city's colours come from a generated stylesheet, see
``tenancy/views.py`` ``brand_css``), so an injected ``<script>``, ``<style>``, ``style=``
or ``onclick=`` does nothing. ``tests/core/test_security_headers.py`` parses every
rendered page and fails on anything inline the policy would block.
"""
from __future__ import annotations

import functools

from werkzeug.wrappers import Response

# No 'unsafe-inline' anywhere; inline SVG elements are markup, not script or style, and
# take their colours from presentation attributes (fill=...), which style-src does not govern.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Features no page uses: a framed or injected page cannot ask for them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()" for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
        "microphone", "midi", "payment", "usb",
    )
)

REFERRER_POLICY = "same-origin"
# Pages whose URL carries a secret (a mailed token, a one-time key): no Referer at all,
# not even to the portal's own host (its access logs would keep the secret).
NO_REFERRER = "no-referrer"


@functools.cache
def content_security_policy(form_targets: str = "") -> str:
    """The CSP header value; ``form_targets`` adds sources a form may post to (or be
    redirected to after posting: browsers check form-action on the redirect too)."""
    directives = dict(CSP_DIRECTIVES)
    if form_targets:
        directives["form-action"] += " " + form_targets
    return "; ".join(f"{name} {value}" for name, value in directives.items())


@functools.cache
def _defaults(form_targets: str, hsts_max_age: int) -> tuple[tuple[str, str, str], ...]:
    """(lower-case name, name, value) of every header set unless the view set it: the same
    few combinations on every response, so built once."""
    pairs = [
        ("Content-Security-Policy", content_security_policy(form_targets)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", REFERRER_POLICY),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if hsts_max_age > 0:
        # No includeSubDomains: a city's portal host may share its parent domain with the
        # city's other services, which this deployment cannot vouch for.
        pairs.append(("Strict-Transport-Security", f"max-age={int(hsts_max_age)}"))
    return tuple((name.lower(), name, value) for name, value in pairs)


def set_security_headers(
    response: Response, no_referrer: bool = False, hsts_max_age: int = 0, form_targets: str = ""
) -> Response:
    """Set the policy on ``response``; a header the view chose itself (e.g. the stricter
    sandbox CSP of uploaded files) is kept, except that ``no_referrer`` (a page whose URL
    carries a token) always wins, also when the pipeline answered before the view (a CSRF 400).
    HSTS only when ``hsts_max_age`` > 0 (production).

    The view's headers are read once (``Headers.setdefault`` raised and caught a KeyError
    for each header it added: six a response, issue 10)."""
    headers = response.headers
    if no_referrer:
        headers["Referrer-Policy"] = NO_REFERRER
    present = {name.lower() for name, _value in headers.items()}
    for lower, name, value in _defaults(form_targets, int(hsts_max_age)):
        if lower not in present:
            headers.add(name, value)
    return response
