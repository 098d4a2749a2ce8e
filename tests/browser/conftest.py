"""Browser tests: Debian's Chromium driven by Playwright against a live server.

They skip with a line saying how to enable them when /usr/bin/chromium is missing, and
fail instead when REQUIRE_BROWSER=1 (CI), so CI never skips them silently. Playwright
never downloads a browser: it launches /usr/bin/chromium.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.clock import DAYTIME, Clock, without_libfaketime
from tests.conftest import _postgres_database, build_database, make_config
from waterportal.app import create_app
from waterportal.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = "browser tests need Debian's Chromium: apt-get install chromium (REQUIRE_BROWSER=1 makes this an error)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the worker."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with without_libfaketime():  # Playwright's driver and Chromium start with the real clock
        playwright = sync_playwright().start()
    try:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()
    finally:
        playwright.stop()


class LiveServer:
    """A real HTTP server on 127.0.0.1 serving the app; cities at <slug>.localhost:<port>."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port

    def url(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.localhost:{self.port}{path}"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """An app on its own database with real commits (no per-test rollback)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _postgres_database(base, f"live{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    else:
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite3'}", (lambda: None)
    app = create_app(make_config(build_database(url), PORTAL_BASE_URL="http://{host}", MAIL_DELIVERY="after_request"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _closed_before_sending(app):
    """The answer read and its iterator closed before the server writes it. Werkzeug's
    development server drains the socket before it closes the iterator, so when Chromium
    drops a connection (a navigation cancelling a stylesheet) the static file stayed open:
    a ResourceWarning that failed whichever test the garbage collector ran in. gunicorn,
    which serves production, closes it first."""
    def serve(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return serve


@pytest.fixture(scope="module")
def live_server(live_app):
    """Serve ``live_app`` in a thread for the module.

    time-machine's clock is the process's, so the server thread reads the suite's clock:
    during a test the frozen ``clock`` fixture; between tests (module set-up) this one,
    ticking from the same daytime moment, so Kanazawa's hours never depend on the hour CI runs.
    """
    _require_chromium()
    traveller = Clock(DAYTIME, tick=True)
    server = make_server("127.0.0.1", 0, _closed_before_sending(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(live_app, server.server_port)
    finally:
        server.shutdown()
        thread.join(5)
        traveller.stop()


@pytest.fixture(scope="module")
def live_mail(live_app):
    """A real SMTP server (aiosmtpd) that the live app sends its mail to, for the module."""
    from tests.smtp import running_smtp_server

    with running_smtp_server(live_app) as server:
        yield server


# Every document reports what its Content-Security-Policy blocked (issue 9 #5).
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', e => window.__reportCsp && window.__reportCsp(
  [e.effectiveDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber, e.sample].join(' ')));
"""


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) and page per test, phone-sized. The test fails
    when a page reports a CSP violation (``page.csp_violations``): in every browser test,
    nothing the pages need may be blocked by the policy."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP")
    context.set_default_timeout(10_000)
    violations: list[str] = []
    context.expose_binding("__reportCsp", lambda source, text: violations.append(f"{source['frame'].url}: {text}"))
    context.add_init_script(CSP_LISTENER)
    tab = context.new_page()
    # Chromium also logs each violation, including those of frames the listener cannot run in.
    tab.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    tab.csp_violations = violations
    yield tab
    context.close()
    assert not violations, f"the Content-Security-Policy blocked: {violations}"
