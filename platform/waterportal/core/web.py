"""Small request and response helpers shared by every blueprint, each written once.

The client address, the 429 response with ``Retry-After``, the ``no-store`` header for
pages with personal data and the consoles, the same-site ``next=`` check, and the
templates' ``url_for`` that builds each link once.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, make_response, request, url_for
from werkzeug.wrappers import Response


def client_address() -> str:
    """The client's address ("" when unknown). Behind a proxy, ProxyFix (``PROXY_FIX_X_FOR``)
    has already replaced it with the forwarded one, so nothing else reads X-Forwarded-For."""
    return request.remote_addr or ""


def page_response(body: str, status: int = 200, retry_after: int = 0) -> Response:
    """A page with ``status``; a 429 also says when to try again (``Retry-After``, >= 1 s)."""
    response = make_response(body, status)
    if status == 429:
        response.headers["Retry-After"] = str(max(1, int(retry_after)))
    return response


def throttled_response(body: str, seconds: int) -> Response:
    """HTTP 429 with a Retry-After header."""
    return page_response(body, 429, seconds)


def no_store(response: Response) -> Response:
    """Keep a page with personal data out of every cache (browser back/forward, proxies)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def token_page(response: Response) -> Response:
    """A page whose URL carries a secret (a mailed link): no Referer leaves it, never cached."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return no_store(response)


def console_headers(response: Response) -> Response:
    """A console response (city staff, vendor), its files included, holds data of many
    people: never cached. Framing, sniffing and referrer headers are the request pipeline's
    for every response (``pipeline.add_security_headers``, :mod:`.security_headers`)."""
    return no_store(response)


def safe_next(value: str | None, prefix: str = "/") -> str | None:
    """A same-site path under ``prefix`` to return to after login, or None: no open
    redirects (``//host``, ``\\``, a scheme) and no control characters (a line break must
    never reach the Location header)."""
    if not value or not value.startswith(prefix) or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


# Links a worker remembers per app before it starts over (a page's links are a few dozen;
# links with ids, such as a bill's, come and go).
REMEMBERED_URLS = 4096


def remembered_url_for(endpoint: str, **values) -> str:
    """The templates' ``url_for``: Flask's, remembered per (script root, endpoint, arguments).

    Every page builds the same layout links (stylesheets, menu, footer), 8 to 17 a page, and
    building one cost as much as a tenth of a city page (issue 10). A relative link depends
    only on the URL map, the script root and the arguments: there is no host or subdomain
    matching and no ``url_defaults``, so the remembered link is the one Flask would build.
    Anything else (a blueprint-relative ``.name``, ``_external``, ``_anchor``, ``_method``,
    ``_scheme``, an unhashable argument, no request) is built by Flask every time.
    """
    app = current_app._get_current_object()
    if (endpoint.startswith(".") or app.url_default_functions or any(key.startswith("_") for key in values)
            or not has_request_context()):  # outside a request (mail) Flask builds external links
        return url_for(endpoint, **values)
    try:
        # The type too: 1, True and 1.0 are equal keys but build different links (?page=True).
        key = (request.script_root, endpoint, *sorted((k, type(v).__name__, v) for k, v in values.items()))
        known = app.extensions["waterportal.urls"]
        found = known.get(key)
    except TypeError:  # an unhashable argument
        return url_for(endpoint, **values)
    if found is None:
        found = url_for(endpoint, **values)
        if len(known) >= REMEMBERED_URLS:
            known.clear()
        known[key] = found
    return found


def install_remembered_url_for(app) -> None:
    """Make :func:`remembered_url_for` the templates' ``url_for`` (one cache per app)."""
    app.extensions["waterportal.urls"] = {}
    app.jinja_env.globals["url_for"] = remembered_url_for
