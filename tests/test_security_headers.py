"""Issue 9 #5: every response carries the browser security headers, and no page holds
anything inline that the Content-Security-Policy (no 'unsafe-inline') would block.

Walked over the route map: every citizen route of both cities (the cross-city walk's
listing, logged out and logged in), every console route (staff and vendor), the error
pages (unknown host, service hours, CSRF) and static files. Every rendered page is parsed
for inline scripts, ``<style>``, ``style=`` and ``on*=`` attributes, and every template
file too, so a page a GET walk cannot reach (a form's later state) cannot break it either.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.admin import conftest as admin_fixtures
from tests.admin import test_isolation as console_walk
from tests.clock import JST
from tests.tenancy import test_cross_city_walk as cross_city
from tests.vendor_console import test_console as vendor_tests
from waterportal.core.paths import CONFIG_DIR, REPO_ROOT, TENANTS_DIR, THEMES_DIR
from waterportal.pipeline import TOKEN_ENDPOINTS

# Fixtures of other modules this walk reuses.
world, nayoro_data = cross_city.world, console_walk.nayoro_data
make_staff, staff_client = admin_fixtures.make_staff, admin_fixtures.staff_client
make_vendor, vendor_client = vendor_tests.make_vendor, vendor_tests.vendor_client

# Every response, whatever its status or blueprint.
EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp_of(response) -> dict[str, str]:
    value = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in value.split(";") if part.strip()}


def assert_headers(response, where: str, referrer: str = "same-origin") -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name} is {response.headers.get(name)!r}"
    assert response.headers.get("Referrer-Policy") == referrer, f"{where}: Referrer-Policy"
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions, f"{where}: Permissions-Policy lacks {feature}"
    csp = csp_of(response)
    if "sandbox" in csp:  # an uploaded file's own, stricter policy
        assert csp.get("default-src") == "'none'", where
        return
    assert csp.get("frame-ancestors") == "'none'", f"{where}: CSP {csp}"
    assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", where
    for directive in ("default-src", "script-src", "style-src"):
        assert csp.get(directive) == "'self'", f"{where}: {directive} {csp.get(directive)!r}"
    assert "unsafe" not in str(csp), where
    assert "Strict-Transport-Security" not in response.headers, f"{where}: HSTS outside production"


class InlineFinder(HTMLParser):
    """Everything in a page that ``script-src 'self'; style-src 'self'`` blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (event handler attribute)")
            elif name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not names.get("src"):
            self.problems.append("<script> without src")
        if tag == "script" and names.get("src") and re.match(r"(?i)(https?:)?//", names["src"] or ""):
            self.problems.append(f"<script src={names['src']!r}> from another host")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def inline_problems(markup: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(markup)
    finder.close()
    return finder.problems


def check(response, where: str, referrer: str = "same-origin") -> None:
    """The headers, and for an HTML page nothing the CSP would block."""
    body = response.get_data()
    response.close()
    assert_headers(response, where, referrer)
    if response.mimetype == "text/html":
        problems = inline_problems(body.decode())
        assert not problems, f"{where} holds what the CSP blocks: {problems}"


def test_the_html_check_finds_what_the_policy_blocks():
    page = ('<p style="color:red" onclick="x()"><style>p{}</style><script>alert(1)</script>'
            '<a href=" javascript:alert(1)">x</a><svg><rect style="fill:red" onload="y()"/></svg></p>'
            '<script src="/ok.js"></script><script src="https://cdn.example/x.js"></script>')
    assert len(inline_problems(page)) == 8
    assert inline_problems('<svg><rect fill="#7a1f2b" width="10"/></svg><link rel="stylesheet" href="/a.css">') == []


def referrer_for(endpoint: str) -> str:
    return "no-referrer" if endpoint in TOKEN_ENDPOINTS else "same-origin"


@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "logged-in"])
@pytest.mark.parametrize("slug, other", [("nayoro", "kanazawa"), ("kanazawa", "nayoro")])
def test_every_citizen_route_sends_the_headers_and_nothing_inline(app, world, client_for, slug, other, logged_in):
    client = cross_city.log_in(client_for, slug) if logged_in else client_for(slug)
    walked = pages = 0
    for rule in cross_city.citizen_rules(app):
        if "GET" not in rule.methods:
            continue
        for values in cross_city.argument_values(rule, world[slug], world[other]):
            where = cross_city.url_for_rule(rule, values)
            response = client.get(where)
            pages += response.status_code == 200 and response.mimetype == "text/html"
            check(response, f"{slug} {where}", referrer_for(rule.endpoint))
            walked += 1
    assert walked >= 45 and pages >= (20 if logged_in else 10), (walked, pages)


def test_every_console_route_sends_the_headers_and_nothing_inline(app, staff_client, nayoro_data):
    staff = staff_client("nayoro")
    walked = 0
    for rule in console_walk.admin_rules(app):
        if "GET" in rule.methods:
            ids = {"token": "x" * 40, **nayoro_data}  # a token route answers its refusal page
            check(staff.get(console_walk.url(rule, ids)), f"admin {rule.rule}", referrer_for(rule.endpoint))
            walked += 1
    assert walked >= 20


def test_the_branding_preview_has_nothing_inline(staff_client):
    """The preview renders the login page with unsaved colours inside the console page."""
    staff = staff_client("nayoro")
    token = staff.csrf_token("/admin/settings/branding")
    page = staff.post("/admin/settings/branding", data={
        "csrf_token": token, "action": "preview", "version": re.search(
            r'name="version" value="(\d+)"', staff.get("/admin/settings/branding").get_data(as_text=True)).group(1),
        "branding.primary_color": "#123456", "branding.primary_text_color": "#ffffff", "branding.accent_color": "#8a6d1d",
    })
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "srcdoc=" in body, body[:2000]
    preview = re.search(r'srcdoc="([^"]*)"', body).group(1)
    inner = html.unescape(preview)
    assert inline_problems(inner) == [] and "123456" in inner
    check(page, "branding preview")


def test_every_vendor_route_sends_the_headers_and_nothing_inline(app, client_for, vendor_client):
    logged_out = client_for(vendor_tests.VENDOR)
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/vendor") and "GET" in rule.methods and not rule.arguments:
            for client in (logged_out, vendor_client):
                # The vendor console sends no referrer at all (its links lead into cities).
                check(client.get(rule.rule), f"vendor {rule.rule}", "no-referrer")
                walked += 1
    assert walked >= 6
    # The console's form into a city redirects off the vendor host: form-action allows it.
    assert csp_of(vendor_client.get("/vendor/"))["form-action"] == "'self' http:"


def test_error_pages_and_static_files_send_the_headers(client_for, clock):
    unknown = client_for("unknown.localhost").get("/login")
    assert unknown.status_code == 404
    check(unknown, "unknown host")
    check(client_for("vendor.localhost").get("/nothing"), "vendor host 404")
    nayoro = client_for("nayoro")
    csrf = nayoro.post("/login", data={"identifier": "x@example.jp", "password": "x"})
    assert csrf.status_code == 400
    check(csrf, "CSRF 400")
    for path in ("/_theme/default/portal.css", "/_theme/default/password-toggle.js", "/_tenant/logo.svg",
                 "/admin/static/admin.css", "/_core/error.css"):
        response = nayoro.get(path)
        assert response.status_code == 200, path
        check(response, path)
    clock.move_to(dt.datetime(2026, 11, 18, 4, 0, tzinfo=JST))  # Kanazawa is closed 02:00-07:00
    closed = client_for("kanazawa").get("/login")
    assert closed.status_code == 503
    check(closed, "service hours 503")


def test_token_pages_send_no_referrer(app, world, client_for):
    """The mailed links and the vendor's one-time link: no Referer, even on their errors."""
    reset = client_for("nayoro").get(f"/password/reset/{world['nayoro']['token']}")
    assert reset.status_code == 200
    check(reset, "password reset", "no-referrer")
    recover = client_for("kanazawa").get(f"/recover/{world['kanazawa']['recovery_token']}")
    assert recover.status_code == 200
    check(recover, "login-ID recovery", "no-referrer")
    refused = client_for("nayoro").post(f"/password/reset/{world['nayoro']['token']}", data={})
    assert refused.status_code == 400  # CSRF, answered before the view
    check(refused, "reset without CSRF", "no-referrer")
    vendor_link = client_for("nayoro").get("/admin/vendor-login?key=not-a-key")
    check(vendor_link, "vendor one-time link", "no-referrer")
    # A new route with a token in its path is a token page too, listed in the pipeline.
    for rule in app.url_map.iter_rules():
        if {"token", "key", "code"} & set(rule.arguments):
            assert rule.endpoint in TOKEN_ENDPOINTS, f"{rule.rule}: add {rule.endpoint} to pipeline.TOKEN_ENDPOINTS"
            if "GET" in rule.methods:
                check(client_for("nayoro").get(rule.build(dict.fromkeys(rule.arguments, "x" * 40))[1]), rule.rule, "no-referrer")


@pytest.mark.parametrize("env", ["production", "development", "testing"])
def test_hsts_is_on_by_default_in_production_only(env):
    settings = tomllib.loads((CONFIG_DIR / "default.toml").read_text())
    env_file = CONFIG_DIR / f"{env}.toml"
    settings.update(tomllib.loads(env_file.read_text()) if env_file.is_file() else {})
    if env == "production":
        assert settings["HSTS_MAX_AGE"] >= 31536000
    else:
        assert settings.get("HSTS_MAX_AGE", 0) == 0


def test_hsts_is_sent_when_configured(app, client_for):
    assert "Strict-Transport-Security" not in client_for("nayoro").get("/login").headers
    app.config["HSTS_MAX_AGE"] = 31536000
    try:
        for host, path in (("nayoro", "/login"), ("unknown.localhost", "/"), ("vendor.localhost", "/vendor/login")):
            assert client_for(host).get(path).headers["Strict-Transport-Security"] == "max-age=31536000", host
    finally:
        app.config["HSTS_MAX_AGE"] = 0


TEMPLATE_ROOTS = (THEMES_DIR, TENANTS_DIR, REPO_ROOT / "platform" / "waterportal")
# Jinja comments and expressions are not markup; what is left must hold nothing inline.
JINJA = re.compile(r"{#.*?#}|{{.*?}}|{%.*?%}", re.DOTALL)


def test_no_template_holds_what_the_policy_blocks():
    """Every template file, including branches no walk reaches (a form's error state)."""
    templates = [p for root in TEMPLATE_ROOTS for p in Path(root).rglob("*.html")]
    assert len(templates) >= 60
    for path in templates:
        markup = JINJA.sub("x", path.read_text(encoding="utf-8"))
        problems = inline_problems(markup)
        assert not problems, f"{path.relative_to(REPO_ROOT)}: {problems}"


def test_a_header_the_view_set_is_kept_whatever_its_case_and_none_is_doubled():
    from werkzeug.wrappers import Response

    from waterportal.core.security_headers import set_security_headers

    response = Response("x")
    response.headers["x-frame-options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "origin"
    for _ in range(2):
        set_security_headers(response, hsts_max_age=60)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Referrer-Policy") == ["origin"]
    assert response.headers.getlist("Strict-Transport-Security") == ["max-age=60"]
    assert len(response.headers.getlist("Content-Security-Policy")) == 1
    set_security_headers(response, no_referrer=True)
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
