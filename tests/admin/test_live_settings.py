"""A settings change reaches another app instance (another worker) on the same database,
with real commits and no restart."""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.admin.conftest import STAFF_PASSWORD, login_staff
from tests.admin.test_settings import settings_post
from tests.conftest import CityClient, _postgres_database, build_database, make_config
from waterportal.app import create_app
from waterportal.extensions import db
from waterportal.tenancy.registry import get_registry

EARLY = dt.datetime(2026, 11, 18, 6, 30, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def two_workers(tmp_path):
    """Two apps (as two gunicorn workers would be) on one database of their own."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _postgres_database(base, f"workers{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    else:
        url, drop = f"sqlite:///{tmp_path / 'shared.sqlite3'}", (lambda: None)
    app_url = build_database(url)
    first, second = create_app(make_config(app_url)), create_app(make_config(app_url))
    yield first, second
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    drop()


def client(app, host="kanazawa.localhost") -> CityClient:
    app.test_client_class = CityClient
    made = app.test_client()
    made.host = host
    return made


@pytest.mark.real_commits
def test_a_saved_setting_reaches_the_other_worker_without_restart(two_workers):
    first, second = two_workers
    with first.app_context():  # the `flask` command pushes one itself
        created = first.test_cli_runner().invoke(args=["staff", "create", "--tenant", "kanazawa",
                                                       "kacho@kanazawa.example.jp", "--role", "admin",
                                                       "--password", STAFF_PASSWORD])
    assert created.exit_code == 0, created.output
    with time_machine.travel(EARLY, tick=False):
        citizen = client(second)
        assert citizen.get("/faq").status_code == 503  # opens at 07:00
        with second.app_context():
            version = get_registry().by_slug("kanazawa").version

        admin = client(first)
        assert login_staff(admin, "kacho@kanazawa.example.jp").status_code == 302
        assert settings_post(admin, "hours", {"service_hours.open": "06:00"}).status_code == 302
        assert settings_post(admin, "faq", {"texts.faq.3.question": "新しい質問", "texts.faq.3.answer": "新しい回答"}).status_code == 302

        page = citizen.get("/faq")
        assert page.status_code == 200 and "新しい質問" in page.get_data(as_text=True)
        with second.app_context():
            tenant = get_registry().by_slug("kanazawa")
            assert tenant.version == version + 2 and tenant.settings["service_hours"]["open"] == "06:00"

        assert admin.submit("/admin/settings/history/0/rollback", {}).status_code == 302
        assert citizen.get("/faq").status_code == 503
        assert client(second, "nayoro.localhost").get("/faq").status_code == 200  # other cities untouched
