"""Service hours: a 503 maintenance page outside the city's hours, wrapping midnight."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from waterportal.core.time import within_hours

JST = ZoneInfo("Asia/Tokyo")


def at(hh: int, mm: int, ss: int):
    return time_machine.travel(dt.datetime(2026, 11, 20, hh, mm, ss, tzinfo=JST), tick=False)


@pytest.mark.parametrize(
    "clock, open_",
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
def test_kanazawa_hours_0700_to_0200(client_for, clock, open_):
    with at(*clock):
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


def test_retry_after_counts_to_opening_in_city_time(client_for):
    with at(6, 59, 0):
        response = client_for("kanazawa").get("/pages/about")
    assert response.headers["Retry-After"] == "60"
    with at(2, 0, 0):
        response = client_for("kanazawa").get("/pages/about")
    assert response.headers["Retry-After"] == str(5 * 3600)


def test_city_time_zone_not_utc(client_for):
    # 21:30 UTC is 06:30 in Tokyo: closed, although 21:30 would be open.
    with time_machine.travel(dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.UTC), tick=False):
        assert client_for("kanazawa").get("/pages/about").status_code == 503


def test_city_without_hours_is_always_open(client_for):
    with at(3, 0, 0):
        assert client_for("nayoro").get("/pages/about").status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/_theme/default/portal.css", "/_tenant/logo.svg"])
def test_static_and_health_stay_up_outside_hours(client_for, path):
    with at(3, 0, 0), client_for("kanazawa").get(path) as response:
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
