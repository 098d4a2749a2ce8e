"""The app behind PgBouncer in transaction mode (docs/operations.md, 'Beyond one machine'):
each transaction may get another server connection, so the city that row security reads
(``app.tenant_id``, set with ``set_config(..., true)`` per transaction) must never outlive its
transaction or reach another client.

PostgreSQL only, and it needs the ``pgbouncer`` binary (apt-get install pgbouncer): it skips
without it, except where ``REQUIRE_PGBOUNCER=1`` (CI) makes that an error.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.clock import without_libfaketime
from tests.conftest import POSTGRES_ONLY, CityClient, _postgres_database, build_database, make_config
from waterportal.accounts.models import Member
from waterportal.app import create_app
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth.passwords import hash_password
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]

# What docs/operations.md tells a deployment behind PgBouncer < 1.21: no server-side prepared
# statements (psycopg would prepare a statement on one server connection and use it on another).
ENGINE_OPTIONS = {"pool_recycle": 1800, "pool_size": 2, "max_overflow": 0, "connect_args": {"prepare_threshold": None}}
CITIES = {"nayoro": ("nayoro@example.jp", "00011111111"), "kanazawa": ("kanazawa01", "00022222222")}
PAGES = 15


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bouncer():
    """A PgBouncer of this test's own in transaction mode with two server connections, in
    front of a database built like the suite's; yields the app's URL through it."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip(POSTGRES_ONLY)
    if shutil.which("pgbouncer") is None:
        message = "needs pgbouncer on PATH (apt-get install pgbouncer; REQUIRE_PGBOUNCER=1 makes this an error)"
        if os.environ.get("REQUIRE_PGBOUNCER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = make_url(base)
    url, drop = _postgres_database(base, f"pgb{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    folder = Path(tempfile.mkdtemp(prefix="wp-pgbouncer-"))
    process = None
    try:
        app_url = make_url(build_database(url))
        port = _free_port()
        (folder / "users.txt").write_text(f'"{app_url.username}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\n* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
            "default_pool_size = 2\nmax_client_conn = 100\nignore_startup_parameters = extra_float_digits,options\n"
        )
        folder.chmod(0o755)
        for path in folder.iterdir():
            path.chmod(0o644)
        # PgBouncer will not run as root: then it drops to nobody (-u).
        command = ["pgbouncer", *(["-u", "nobody"] if os.geteuid() == 0 else []), str(folder / "pgbouncer.ini")]
        log = folder / "pgbouncer.err"
        with without_libfaketime(), log.open("w") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                threading.Event().wait(0.05)  # monotonic wait: the suite's clock is frozen
        else:
            pytest.fail(f"pgbouncer did not start: {log.read_text()}")
        yield app_url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
        drop()


def _app(url: str):
    return create_app(make_config(url, SQLALCHEMY_ENGINE_OPTIONS=ENGINE_OPTIONS))


def _member_in_each_city(app) -> None:
    with app.app_context():
        registry = get_registry()
        registry.refresh(force=True)
        for slug, (_, number) in CITIES.items():
            with tenant_context(registry.by_slug(slug)):
                contract = Contract(customer_number=number, holder_name="水道 太郎", holder_name_kana="スイドウタロウ",
                                    phone="0165432111", address="風連町西町196番地1", meter_number="M1",
                                    meter_diameter_mm=13)
                member = Member(email=f"{slug}@example.jp", login_id=f"{slug}01", nickname=f"{slug}さん",
                                password_hash=hash_password("Passw0rd!x"))
                db.session.add_all([contract, member])
                db.session.flush()
                db.session.add(MemberContract(member_id=member.id, contract_id=contract.id))
                db.session.flush()
            db.session.commit()
        db.session.remove()


def _browse(app, slug: str, other: str, problems: list[str]) -> None:
    """Log in and load /mypage; after each page, raw SQL without a city and under the city."""
    identifier, number = CITIES[slug]
    app.test_client_class = CityClient
    client = app.test_client()
    client.host = f"{slug}.localhost"
    try:
        assert client.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
        for _ in range(PAGES):
            page = client.get("/mypage")
            body = page.get_data(as_text=True)
            assert page.status_code == 200 and number in body and CITIES[other][1] not in body
            with app.app_context():
                assert db.session.execute(text("SELECT count(*) FROM members")).scalar() == 0, "a city outlived its transaction"
                db.session.commit()
                with tenant_context(get_registry().by_slug(slug)):
                    emails = db.session.execute(text("SELECT string_agg(email, ',') FROM members")).scalar()
                db.session.commit()
                assert emails == f"{slug}@example.jp", emails
    except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
        problems.append(f"{slug}: {type(exc).__name__}: {exc}")


def test_cities_stay_apart_when_transactions_share_two_server_connections(bouncer):
    setup = _app(bouncer)
    _member_in_each_city(setup)
    pairs = [("nayoro", "kanazawa"), ("kanazawa", "nayoro")] * 2
    apps = [_app(bouncer) for _ in pairs]
    problems: list[str] = []
    threads = [threading.Thread(target=_browse, args=(app, slug, other, problems))
               for app, (slug, other) in zip(apps, pairs, strict=True)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        for app in [setup, *apps]:
            with app.app_context():
                db.engine.dispose()
    assert problems == []
