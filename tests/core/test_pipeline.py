"""The request pipeline (waterportal/pipeline.py): one hook, steps in the documented order.

Each of the three regressions below answered wrongly while CSRF ran before the city
was known: a 400 where the host is unknown (404) or the city closed (503), and the core
error page instead of the city's own.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from flask import g

from waterportal import pipeline
from waterportal.tenancy.context import current_tenant_or_none, tenant_context

JST = ZoneInfo("Asia/Tokyo")
CLOSED_AT_KANAZAWA = dt.datetime(2026, 11, 25, 3, 30, tzinfo=JST)  # 07:00-02:00 city


def test_only_the_pipeline_runs_before_a_view(app):
    """Nothing else registers a before-request hook: the order is the pipeline's alone.
    (Flask-WTF's own hook stays installed but is switched off by WTF_CSRF_CHECK_DEFAULT.)"""
    hooks = {name: [f.__qualname__ for f in funcs] for name, funcs in app.before_request_funcs.items()}
    assert hooks == {None: ["CSRFProtect.init_app.<locals>.csrf_protect", "run_before_view"]}
    assert app.config["WTF_CSRF_CHECK_DEFAULT"] is False
    assert [f.__name__ for f in app.teardown_request_funcs[None]][-1] == "finish_request"


def test_form_post_to_an_unknown_host_is_404_not_a_csrf_400(client_for):
    response = client_for("unknown.example.jp").post("/login", data={"identifier": "x", "password": "y"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "ページが見つかりません" in body
    assert "名寄" not in body and "金沢" not in body


def test_post_while_the_city_is_closed_is_the_503_maintenance_page(client_for):
    client = client_for("kanazawa")
    with time_machine.travel(CLOSED_AT_KANAZAWA, tick=False):
        response = client.post("/login", data={"identifier": "x", "password": "y"})  # no token at all
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(int(3.5 * 3600))
    body = response.get_data(as_text=True)
    assert "ご利用時間外です" in body and "07:00〜02:00" in body


def test_expired_form_shows_the_citys_own_error_page(client_for):
    for slug, portal_name in (("nayoro", "名寄市上下水道ポータル"), ("kanazawa", "金沢市上下水道ポータルサイト")):
        response = client_for(slug).post("/login", data={"csrf_token": "expired", "identifier": "x", "password": "y"})
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert "画面の有効期限が切れたか" in body
        assert portal_name in body, f"{slug}: the core error page, not the city's"


def test_csrf_is_still_refused_on_console_posts_at_any_hour(client_for):
    """The console is exempt from service hours, never from CSRF."""
    with time_machine.travel(CLOSED_AT_KANAZAWA, tick=False):
        response = client_for("kanazawa").post("/admin/login", data={"email": "a@b.jp", "password": "x"})
    assert response.status_code == 400


def test_pages_with_personal_data_are_never_stored(client_for, nayoro, make_member):
    make_member(nayoro, email="pipeline@example.jp", password="Passw0rd!x")
    client = client_for("nayoro")
    anonymous = client.get("/pages/about")
    assert anonymous.status_code == 200 and "no-store" not in anonymous.headers.get("Cache-Control", "")
    login = client.submit("/login", {"identifier": "pipeline@example.jp", "password": "Passw0rd!x"})
    assert login.status_code == 302
    for path in ("/pages/about", "/mypage/", "/mypage/profile/nickname"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    assert client_for("nayoro").get("/admin/login").headers["Cache-Control"] == "no-store"


def test_steps_run_city_first_then_hours_then_csrf_then_sessions():
    assert [step.__name__ for step in pipeline.BEFORE_VIEW_STEPS] == [
        "resolve_tenant", "service_gate", "check_csrf", "load_sessions"]


def test_the_city_travels_in_one_carrier_and_every_request_starts_without_one(app, nayoro, kanazawa):
    """The ContextVar is the only carrier (no ``g.tenant``); a request never inherits the
    caller's city, and the caller's city is back after it."""
    with tenant_context(kanazawa):
        with app.test_request_context("/vendor/login", headers={"Host": "vendor.localhost"}):
            app.preprocess_request()
            assert current_tenant_or_none() is None
            assert "tenant" not in g
        with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
            assert app.preprocess_request() is None
            assert current_tenant_or_none().slug == "nayoro"
        assert current_tenant_or_none().slug == "kanazawa"


def test_a_proxy_without_proxy_fix_is_warned_about_once(app, client_for, caplog):
    """Issue 9 #3: behind a proxy with PROXY_FIX_X_FOR = 0 every citizen shares one address."""
    app.extensions.pop("waterportal.forwarding_warned", None)
    client = client_for("nayoro")
    with caplog.at_level("WARNING", logger="waterportal"):
        client.get("/pages/about")
        assert not [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
        for _ in range(3):
            client.get("/pages/about", headers={"X-Forwarded-For": "203.0.113.7"})
    warnings = [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
    assert len(warnings) == 1 and "FLASK_PROXY_FIX_X_FOR" in warnings[0].getMessage()
