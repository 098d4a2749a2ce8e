"""The embedded SQLite database under simultaneous writing requests (issue 9 #7).

Several threads of one app share one SQLite file, as gunicorn's threads do: they log in,
ask for password resets and open member pages that record activity, all at the same
moment (a barrier). Deferred transactions that read and then write fail with "database is
locked" as soon as another connection has written; writing requests must begin with
``BEGIN IMMEDIATE`` and reads that turn into writes are retried, so nobody sees a 5xx.
"""
from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select, update

from tests.conftest import CityClient, make_config
from waterportal.accounts.models import Member, MemberSession
from waterportal.app import create_app
from waterportal.core.auth.passwords import hash_password, verify_password
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import get_registry

THREADS = 8
ROUNDS = 3
PASSWORD = "Passw0rd!x"


@pytest.fixture
def shared_file_app(tmp_path):
    """An app on its own SQLite file with Nayoro and one member per thread (real commits)."""
    app = create_app(make_config(f"sqlite:///{tmp_path / 'shared.sqlite3'}", PROPAGATE_TEST_ERRORS=False))
    app.test_client_class = CityClient
    with app.app_context():
        db.create_all()
        apply_definition(read_definition(TENANTS_DIR / "nayoro"))
        db.session.commit()
        registry = get_registry()
        registry.refresh(force=True)
        with tenant_context(registry.by_slug("nayoro")):
            digest = hash_password(PASSWORD)
            db.session.add_all(Member(email=f"m{n}@example.jp", nickname="水道太郎", password_hash=digest)
                               for n in range(THREADS))
            db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def together(work) -> list[int]:
    """Run ``work(n)`` in THREADS threads released at once; return every status they got."""
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            statuses.extend(work(n, barrier))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return statuses


@pytest.mark.real_commits
def test_simultaneous_writing_requests_on_one_sqlite_file_get_no_5xx(shared_file_app, clock):
    clients: list[CityClient] = []

    def log_in(n, barrier):
        client = clients[n]
        token = client.csrf_token("/login")
        barrier.wait()
        login = client.post("/login", data={"csrf_token": token, "identifier": f"m{n}@example.jp", "password": PASSWORD})
        token = client.csrf_token("/password/forgot")
        barrier.wait()
        reset = client.post("/password/forgot", data={"csrf_token": token, "email": f"m{(n + 1) % THREADS}@example.jp"})
        return [login.status_code, reset.status_code]

    def open_pages(_n, barrier):
        # A minute later each page view records the session's activity: a read that writes.
        barrier.wait()
        return [clients[_n].get("/mypage").status_code]

    statuses = []
    for _ in range(ROUNDS):
        clients[:] = [shared_file_app.test_client() for _ in range(THREADS)]
        statuses += together(log_in)
        clock.shift(seconds=61)
        statuses += together(open_pages)
    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(302) >= THREADS * ROUNDS  # every login went through
    with shared_file_app.app_context(), tenant_context(get_registry().by_slug("nayoro")):
        assert db.session.scalar(select(func.count()).select_from(MemberSession)) == THREADS * ROUNDS


@pytest.mark.real_commits
def test_password_hashing_does_not_hold_the_write_lock(shared_file_app, tmp_path):
    other = sqlite3.connect(tmp_path / "shared.sqlite3", timeout=0, isolation_level=None)
    with shared_file_app.test_request_context("/login", method="POST", base_url="http://nayoro.localhost"):
        db.session.scalar(select(func.count()).select_from(Tenant))  # a writing request: BEGIN IMMEDIATE
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        verify_password(None, PASSWORD)  # argon2: the lock is let go first
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        # Once the transaction has written, it keeps its lock through the hashing.
        db.session.execute(update(Tenant).values(version=Tenant.version + 1))
        hash_password(PASSWORD)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
    other.close()
