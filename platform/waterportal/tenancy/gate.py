"""Per-request tenant resolution and the service-hours gate (steps 1 and 2 of
:mod:`waterportal.pipeline`)."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response

from waterportal.core.time import local_now, parse_hhmm, seconds_until, within_hours
from waterportal.tenancy.context import TenantContext, current_tenant_or_none, reset_tenant, set_tenant
from waterportal.tenancy.hosts import normalise_host
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.templating import render_page

# Endpoints that answer on any host and never need a city (load balancer checks, the
# stylesheet of the plain error page that unknown hosts get).
HOSTLESS_ENDPOINTS = {"health.healthz", "theme_assets.core_static"}
# Endpoints that stay up outside service hours and for disabled cities (the 503 page
# needs its stylesheets, and its tab its icon).
ALWAYS_OPEN_ENDPOINTS = HOSTLESS_ENDPOINTS | {"theme_assets.static", "theme_assets.tenant_asset", "theme_assets.brand_css",
                                              "theme_assets.favicon", "theme_assets.apple_touch_icon",
                                              "theme_assets.icon_192", "theme_assets.icon_512", "theme_assets.manifest"}
# Blueprints that service hours do not close: city staff must reach their console at any
# hour (a mistyped service-hours setting must never lock them out of fixing it).
HOURS_EXEMPT_BLUEPRINTS = {"admin"}
# The vendor console's blueprint: served on the VENDOR_HOSTS only, never on a city's host.
VENDOR_BLUEPRINT = "vendor"


def vendor_hosts() -> frozenset[str]:
    """The reserved hosts of the vendor console (config ``VENDOR_HOSTS``), normalised."""
    hosts = current_app.extensions.get("waterportal.vendor_hosts")
    if hosts is None:
        hosts = frozenset(normalise_host(h) for h in current_app.config.get("VENDOR_HOSTS", []))
        current_app.extensions["waterportal.vendor_hosts"] = hosts
    return hosts


def _vendor_request() -> Response | None:
    """On a vendor host: vendor pages only, no city (``g.vendor``); "/" leads to the console."""
    g.vendor = True
    if request.blueprint == VENDOR_BLUEPRINT:
        return None
    if request.path == "/":
        return redirect(url_for("vendor.index"))
    abort(404)


def resolve_tenant() -> Response | None:
    """Select the city from the Host header alone; unknown hosts get a 404 naming no city.

    A vendor host (``VENDOR_HOSTS``) selects no city: only the vendor console answers there,
    and the vendor console answers nowhere else.
    """
    # Every request starts with no city, whatever context the thread had (the token
    # restores it at the end of the request, see clear_tenant).
    g.tenant_token = set_tenant(None)
    g.vendor = False
    if request.endpoint in HOSTLESS_ENDPOINTS:
        return None
    try:
        host = normalise_host(request.host)
    except ValueError:
        abort(404)
    if host in vendor_hosts():
        return _vendor_request()
    if request.blueprint == VENDOR_BLUEPRINT:
        abort(404)
    tenant = get_registry().by_host(host)
    if tenant is None:
        abort(404)
    set_tenant(tenant)
    return None


def is_open(tenant: TenantContext) -> tuple[bool, int]:
    """Whether the city's portal is open now, and seconds until it opens (when closed)."""
    hours = tenant.settings.get("service_hours")
    if not hours:
        return True, 0
    opens, closes = parse_hhmm(hours["open"]), parse_hhmm(hours["close"])
    now = local_now(tenant.timezone)
    if within_hours(now.time(), opens, closes):
        return True, 0
    return False, seconds_until(now, opens)


def service_gate() -> Response | None:
    """Outside service hours (or while disabled) every page of the city is a 503 notice."""
    tenant: TenantContext | None = current_tenant_or_none()
    if tenant is None or request.endpoint in ALWAYS_OPEN_ENDPOINTS:
        return None
    if not tenant.enabled:
        response = Response(render_page("disabled.html"), status=503, content_type="text/html; charset=utf-8")
        response.headers["Retry-After"] = "3600"
        return response
    open_now, wait = is_open(tenant)
    if open_now or request.blueprint in HOURS_EXEMPT_BLUEPRINTS:
        return None
    hours = tenant.settings["service_hours"]
    body = render_page("maintenance.html", hours=hours)
    response = Response(body, status=503, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(wait)
    return response


def clear_tenant() -> None:
    """Drop the request's tenant context so a reused thread never inherits it."""
    token = g.pop("tenant_token", None)
    if token is not None:
        reset_tenant(token)

