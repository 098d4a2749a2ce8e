"""Service hours: a 503 maintenance page outside the city's hours, wrapping midnight."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from waterportal.core.time import within_hours

JST = ZoneInfo("Asia/Tokyo")


def at(hh: int, mm: int, ss: int) -> dt.datetime:
    """That time of Friday 2026-11-20 in Tokyo."""
    return dt.datetime(2026, 11, 20, hh, mm, ss, tzinfo=JST)


@pytest.mark.parametrize(
    "hms, open_",
    [
        ((6, 59, 59), False),
        ((7, 0, 0), True),
        ((12, 0, 0), True),
        ((23, 59, 59), True),
        ((0, 0, 0), True),
        ((1, 59, 59), True),
        ((2, 0, 0), False),
        ((4, 30, 0), False),
    ],
)
def test_kanazawa_hours_0700_to_0200(client_for, clock, hms, open_):
    clock.move_to(at(*hms))
    response = client_for("kanazawa").get("/pages/about")
    body = response.get_data(as_text=True)
    if open_:
        assert response.status_code == 200
        assert "ご利用時間外です" not in body
    else:
        assert response.status_code == 503
        assert "ご利用時間外です" in body
        assert "07:00〜02:00" in body
        assert "金沢市上下水道ポータルサイト" in body


def test_retry_after_counts_to_opening_in_city_time(client_for, clock):
    clock.move_to(at(6, 59, 0))
    response = client_for("kanazawa").get("/pages/about")
    assert response.headers["Retry-After"] == "60"
    clock.move_to(at(2, 0, 0))
    response = client_for("kanazawa").get("/pages/about")
    assert response.headers["Retry-After"] == str(5 * 3600)


def test_city_time_zone_not_utc(client_for, clock):
    # 21:30 UTC is 06:30 in Tokyo: closed, although 21:30 would be open.
    clock.move_to(dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.UTC))
    assert client_for("kanazawa").get("/pages/about").status_code == 503


def test_city_without_hours_is_always_open(client_for, clock):
    clock.move_to(at(3, 0, 0))
    assert client_for("nayoro").get("/pages/about").status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/_theme/default/portal.css", "/_tenant/logo.svg", "/favicon.ico",
                                  "/manifest.webmanifest", "/icon-192.png"])
def test_static_and_health_stay_up_outside_hours(client_for, clock, path):
    clock.move_to(at(3, 0, 0))
    with client_for("kanazawa").get(path) as response:
        assert response.status_code == 200


@pytest.mark.parametrize(
    "moment, opens, closes, expected",
    [
        (dt.time(8), dt.time(9), dt.time(17), False),
        (dt.time(9), dt.time(9), dt.time(17), True),
        (dt.time(17), dt.time(9), dt.time(17), False),
        (dt.time(23), dt.time(22), dt.time(6), True),
        (dt.time(6), dt.time(22), dt.time(6), False),
        (dt.time(3), dt.time(0), dt.time(0), True),
    ],
)
def test_within_hours(moment, opens, closes, expected):
    assert within_hours(moment, opens, closes) is expected


def test_every_citizen_page_is_closed_outside_hours(app, client_for, clock):
    """Every route of the city (GET and POST, any argument) answers the 503 notice at night;
    only the staff console, the health check and static files stay up."""
    from waterportal.tenancy.gate import ALWAYS_OPEN_ENDPOINTS, HOURS_EXEMPT_BLUEPRINTS, VENDOR_BLUEPRINT

    closed = 0
    client = client_for("kanazawa")
    clock.move_to(at(1, 59, 0))  # a form loaded just before closing time and sent just after
    token = client.csrf_token("/login")
    clock.move_to(at(2, 0, 30))
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in ALWAYS_OPEN_ENDPOINTS or blueprint in HOURS_EXEMPT_BLUEPRINTS | {VENDOR_BLUEPRINT}:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", "x")
            for converter in ("int", "path", "string"):
                url = url.replace(f"<{converter}:{name}>", "1" if converter == "int" else "x")
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 503, (method, url, response.status_code)
            assert response.headers["Retry-After"] == str(5 * 3600 - 30), (method, url)
            assert "07:00〜02:00" in response.get_data(as_text=True), (method, url)
            closed += 1
    assert closed >= 40
    # A mistyped address of the city is the city's page too: the notice, not a 404.
    clock.move_to(at(3, 0, 0))
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 503 and "07:00〜02:00" in unknown.get_data(as_text=True)
