"""Host -> city resolution."""
from __future__ import annotations

import pytest

from waterportal.extensions import db
from waterportal.tenancy.hosts import normalise_host
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import get_registry


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("nayoro.localhost", "nayoro.localhost"),
        ("NAYORO.LocalHost", "nayoro.localhost"),
        ("nayoro.localhost:8000", "nayoro.localhost"),
        ("nayoro.localhost.", "nayoro.localhost"),
        ("Nayoro.Localhost.:443", "nayoro.localhost"),
        ("名寄.jp", "xn--eqr82p.jp"),  # punycode of 名寄
    ],
)
def test_normalise_host(raw, expected):
    assert normalise_host(raw) == expected


@pytest.mark.parametrize("raw", ["", "[::1]:8000", "bad host", "-x.localhost", "a..b", "x" * 64 + ".jp"])
def test_normalise_host_rejects_garbage(raw):
    with pytest.raises(ValueError):
        normalise_host(raw)


@pytest.mark.parametrize(
    "host, city",
    [
        ("nayoro.localhost", "名寄市上下水道ポータル"),
        ("NAYORO.localhost:8000", "名寄市上下水道ポータル"),
        ("nayoro.localhost.", "名寄市上下水道ポータル"),
        ("kanazawa.localhost", "金沢市上下水道ポータルサイト"),
        ("Kanazawa.Localhost:8000", "金沢市上下水道ポータルサイト"),
    ],
)
def test_city_chosen_by_host(client_for, host, city):
    response = client_for(host).get("/pages/about")
    assert response.status_code == 200
    assert city in response.get_data(as_text=True)


@pytest.mark.parametrize("host", ["unknown.localhost", "localhost", "127.0.0.1", "nayoro.localhost.evil.example"])
def test_unknown_host_is_a_404_naming_no_city(client_for, host):
    response = client_for(host).get("/pages/about")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "ページが見つかりません" in body
    for name in ("名寄", "金沢", "nayoro", "kanazawa"):
        assert name not in body


@pytest.mark.parametrize(
    "header", ["X-Forwarded-Host", "X-Tenant", "X-Original-Host", "Forwarded", "X-Host"]
)
def test_city_never_comes_from_other_headers(client_for, header):
    value = "host=kanazawa.localhost" if header == "Forwarded" else "kanazawa.localhost"
    response = client_for("nayoro").get("/pages/about", headers={header: value})
    body = response.get_data(as_text=True)
    assert "名寄市" in body and "金沢市" not in body
    unknown = client_for("unknown.localhost").get("/pages/about", headers={header: value})
    assert unknown.status_code == 404


def test_healthz_answers_on_any_host(client_for):
    assert client_for("unknown.localhost").get("/healthz").json == {"status": "ok", "database": "ok"}


def test_host_map_follows_changes_without_restart(app, client_for, app_ctx):
    """A host added by the vendor serves at once: the map refreshes on the version stamp."""
    from waterportal.tenancy.models import TenantHost

    client = client_for("suido.nayoro.example")
    assert client.get("/pages/about").status_code == 404
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == "nayoro"))
    tenant.hosts.append(TenantHost(host="suido.nayoro.example"))
    tenant.version += 1
    db.session.commit()
    assert "名寄市" in client.get("/pages/about").get_data(as_text=True)


def test_registry_checks_at_most_every_refresh_interval(app, app_ctx, monkeypatch):
    from waterportal.tenancy.registry import TenantRegistry

    registry = TenantRegistry(refresh_seconds=60)
    calls = []
    original = registry._current_stamp
    monkeypatch.setattr(registry, "_current_stamp", lambda: calls.append(1) or original())
    for _ in range(5):
        assert registry.by_host("nayoro.localhost").slug == "nayoro"
    assert len(calls) == 1
    assert get_registry() is app.extensions["waterportal.tenants"]
