"""Shared fixtures: one database per test session (per xdist worker), one rolled-back
transaction per test, the two real cities applied, hosts set per client.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (a database of our own is
created and dropped around the run).
"""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession

from tests.clock import DAYTIME, Clock, work_around_libfaketime
from waterportal.app import create_app
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.row_security import APP_ROLE, apply_row_security

work_around_libfaketime()


class ConnectionBoundSession(OrmSession):
    """A plain SQLAlchemy session that accepts Flask-SQLAlchemy's ``db`` argument."""

    def __init__(self, db=None, **options):
        super().__init__(**options)


HOSTS = {"nayoro": "nayoro.localhost", "kanazawa": "kanazawa.localhost"}
# Why a PostgreSQL-only test skips in the SQLite pass, and how to run it (CI's second pass does).
POSTGRES_ONLY = ("PostgreSQL only: set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres "
                 "(CI's PostgreSQL pass sets it)")
postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason=POSTGRES_ONLY)


def _postgres_database(base_url: str, worker: str):
    """Create a fresh database next to ``base_url``; return its URL and a drop callback."""
    url = make_url(base_url)
    name = f"wp_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The URL of this worker's own database, created for the run and dropped after it."""
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _postgres_database(base, re.sub(r"\W", "", worker_id))
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_config(database_url: str, **overrides) -> dict:
    """Test configuration; nothing is read from the environment."""
    config = {
        "ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TENANTS_DIR": str(TENANTS_DIR),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 9,  # discard port: nothing listens; mail tests start their own server
        "MAIL_SUPPRESS_SEND": False,
    }
    config.update(overrides)
    return config


def build_database(url: str, **overrides) -> str:
    """Build the schema from the models and apply both cities, as the tables' owner; return
    the URL the app connects with.

    On PostgreSQL the owner also applies the migration's row security
    (waterportal.tenancy.row_security) and the app connects as its non-owner role, so every
    PostgreSQL test runs behind the policies, as production does.
    """
    owner = create_app(make_config(url, **overrides))
    setup_clock = Clock(DAYTIME)  # the cities' rows are stamped at the suite's moment, not the real one
    with owner.app_context():
        db.create_all()
        apply_row_security(db.session.connection())
        for slug in HOSTS:
            apply_definition(read_definition(TENANTS_DIR / slug))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    setup_clock.stop()
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(database_url):
    """The app with the schema built from the models and both cities applied.

    tests/test_migrations.py proves the Alembic migrations build the same schema.
    """
    application = create_app(make_config(build_database(database_url)))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clock():
    """Every test runs at :data:`tests.clock.DAYTIME` with the clock stopped (tests/clock.py).

    Service hours, business days, expiry and throttles then never depend on when the suite
    runs; a test that needs another moment calls ``clock.move_to(...)`` or ``clock.shift(...)``.
    """
    frozen = Clock(DAYTIME)
    yield frozen
    frozen.stop()


@pytest.fixture(autouse=True)
def _rollback(request, app):
    """Run each test in a transaction that is rolled back; commits become savepoints."""
    from waterportal.core import throttle

    if "live_server" in request.fixturenames or request.node.get_closest_marker("real_commits"):
        yield
        return
    with app.app_context():
        throttle.reset_all()
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own Session.get_bind() would pick the engine
        # and ignore the bound connection (and so escape the rolled-back transaction).
        db.session = db._make_scoped_session(
            {"class_": ConnectionBoundSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        get_registry().refresh(force=True)
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            get_registry().refresh(force=True)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


def city(app, slug: str):
    """The TenantContext of a city (fresh from the registry)."""
    with app.app_context():
        registry = get_registry()
        registry.refresh(force=True)
        return registry.by_slug(slug)


@pytest.fixture
def nayoro(app):
    return city(app, "nayoro")


@pytest.fixture
def kanazawa(app):
    return city(app, "kanazawa")


class CityClient(FlaskClient):
    """A test client that sends one city's Host header and can fetch CSRF tokens."""

    host = "nayoro.localhost"

    def open(self, *args, **kwargs):
        """Every request goes to this client's host unless a Host header is given."""
        headers = kwargs.get("headers") or {}
        if not any(k.lower() == "host" for k in dict(headers)) and "base_url" not in kwargs:
            if args and isinstance(args[0], str):
                kwargs["base_url"] = f"http://{self.host}"
        # A fresh app context per request, as in production. Otherwise the request reuses
        # the test's own app context and ``g`` (Flask-Login's user, Flask-WTF's CSRF token,
        # the tenant's leftovers) leaks from one request, or one client, into the next.
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self, path: str) -> str:
        """GET ``path`` and return the CSRF token of its (first) form."""
        page = self.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert match, f"no csrf_token in {path}"
        return match.group(1)

    def submit(self, path: str, data: dict, form_page: str | None = None, **kwargs):
        """POST ``data`` to ``path`` with the CSRF token of ``form_page`` (default: same path)."""
        payload = {"csrf_token": self.csrf_token(form_page or path), **data}
        return self.post(path, data=payload, **kwargs)


@pytest.fixture
def client_for(app):
    """``client_for("nayoro")`` -> a client whose requests carry Host: nayoro.localhost."""

    def make(slug_or_host: str) -> CityClient:
        app.test_client_class = CityClient
        client = app.test_client()
        client.host = HOSTS.get(slug_or_host, slug_or_host)
        return client

    return make


@pytest.fixture
def client(client_for):
    """A client on Nayoro."""
    return client_for("nayoro")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_contract(app):
    """Factory: a contract in a city (same customer numbers across cities are allowed)."""
    from waterportal.contracts.models import Contract

    counter = iter(range(1, 10_000))

    def make(tenant, **fields):
        n = next(counter)
        digits = tenant.settings["registration"]["customer_number_digits"]
        values = {
            "customer_number": str(1234560 + n).zfill(digits),
            "holder_name": "水道 太郎",
            "holder_name_kana": "スイドウタロウ",
            "phone": "0165432111",
            "address": "風連町西町196番地1",
            "meter_number": f"M{54321 + n}",
            "meter_diameter_mm": 13,
        }
        values.update(fields)
        with app.app_context(), tenant_context(tenant):
            contract = Contract(**values)
            db.session.add(contract)
            db.session.commit()
            return contract.id

    return make


@pytest.fixture
def make_member(app):
    """Factory: a member in a city with a known password (``Passw0rd!x``)."""
    from waterportal.accounts.models import Member

    def make(tenant, email="taro@example.jp", login_id=None, password="Passw0rd!x", **fields):
        from waterportal.core.auth.passwords import hash_password

        with app.app_context(), tenant_context(tenant):
            member = Member(
                email=email, login_id=login_id, nickname=fields.pop("nickname", "水道太郎"),
                password_hash=hash_password(password), **fields,
            )
            db.session.add(member)
            db.session.commit()
            return member.id

    return make


def pytest_report_header(config):
    lines = []
    if not os.environ.get("TEST_DATABASE_URL"):
        lines.append("PostgreSQL tests: off (set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")
    if not Path("/usr/bin/chromium").exists():
        lines.append("browser tests: off (apt-get install chromium; REQUIRE_BROWSER=1 makes that an error)")
    if not os.environ.get("REQUIRE_REDIS"):
        lines.append("Redis test: skips without Redis at 127.0.0.1:6379 (apt-get install redis-server; "
                     "REQUIRE_REDIS=1 makes that an error)")
    return lines


# --- Mail: a real SMTP server per test (tests/smtp.py) -----------------------------------


@pytest.fixture
def smtp_server(app):
    """aiosmtpd on 127.0.0.1 and a free port; the app sends its mail there during the test.

    Yields a tests.smtp.SmtpServer: ``.messages`` (parsed EmailMessage list), ``.wait_for(n)``,
    ``.last_to(address)``, ``.to(address)``, ``.stop()`` / ``.start()`` (outage), ``.hold()``,
    ``.reject_recipients``. Read codes and links with tests.smtp.find_code / find_url.
    """
    from tests.smtp import running_smtp_server

    with running_smtp_server(app) as server:
        yield server


@pytest.fixture
def mail_down(app):
    """The app's mail server is unreachable (a closed port) during the test; yields the port."""
    from tests.smtp import free_port, mail_pointed_at

    port = free_port()
    with mail_pointed_at(app, "127.0.0.1", port):
        yield port
