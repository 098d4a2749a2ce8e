"""Per-city templates: overrides, branding, and what a city can never override."""
from __future__ import annotations

import re

import pytest

from waterportal.tenancy.templating import chain


@pytest.fixture
def tenant_override(app, tmp_path):
    """City overrides in a private copy of tenants/, so parallel tests never see them."""
    import shutil
    from pathlib import Path

    from waterportal.tenancy.templating import build_loader

    original_dir, original_loader = app.config["TENANTS_DIR"], app.jinja_loader
    private = tmp_path / "tenants"
    shutil.copytree(original_dir, private)
    app.config["TENANTS_DIR"] = str(private)
    app.jinja_loader = build_loader(app, private, Path(app.config["THEMES_DIR"]))
    app.jinja_env.cache.clear()

    def write(slug: str, name: str, content: str):
        path = private / slug / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        app.jinja_env.cache.clear()

    yield write
    app.config["TENANTS_DIR"], app.jinja_loader = original_dir, original_loader
    app.jinja_env.cache.clear()


def test_chain_is_most_specific_first(nayoro):
    assert chain(nayoro, "pages/faq.html") == [
        "tenant/nayoro/templates/pages/faq.html",
        "theme/default/templates/pages/faq.html",
    ]


def test_city_override_applies_to_that_city_only(client_for, tenant_override):
    tenant_override("nayoro", "pages/faq.html", "{% extends layout %}{% block content %}名寄の特別FAQ{% endblock %}")
    assert "名寄の特別FAQ" in client_for("nayoro").get("/faq").get_data(as_text=True)
    kanazawa = client_for("kanazawa").get("/faq").get_data(as_text=True)
    assert "名寄の特別FAQ" not in kanazawa
    assert "ログインIDを忘れました。" in kanazawa


def test_city_cannot_override_core_admin_or_vendor_templates(client_for, tenant_override, app):
    """Core templates are loaded by bare names that the tenant/ and theme/ prefixes cannot reach."""
    tenant_override("nayoro", "core/error.html", "HACKED")
    tenant_override("nayoro", "admin/base.html", "HACKED")
    body = client_for("unknown.localhost").get("/pages/about").get_data(as_text=True)
    assert "HACKED" not in body
    with app.app_context():
        assert app.jinja_env.get_template("core/error.html").filename.endswith(
            "platform/waterportal/templates/core/error.html"
        )


def brand_stylesheet(client, page: str) -> str:
    """The city's colours: the stylesheet the page links (no inline style under the CSP)."""
    href = re.search(r'<link rel="stylesheet" href="(/_brand\.css\?c=[^"]+)">', page).group(1)
    response = client.get(href.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "immutable" in response.headers["Cache-Control"]  # the key is the content
    return response.get_data(as_text=True)


def test_each_city_looks_like_itself(client_for):
    nayoro_client, kanazawa_client = client_for("nayoro"), client_for("kanazawa")
    nayoro = nayoro_client.get("/faq").get_data(as_text=True)
    kanazawa = kanazawa_client.get("/faq").get_data(as_text=True)
    assert "--brand:#0b5e8e" in brand_stylesheet(nayoro_client, nayoro) and "名寄市上下水道ポータル" in nayoro
    assert "--brand:#7a1f2b" in brand_stylesheet(kanazawa_client, kanazawa) and "金沢市上下水道ポータルサイト" in kanazawa
    assert 'src="/_tenant/logo.png"' in nayoro


def test_the_brand_stylesheet_takes_colours_only(client):
    assert client.get("/_brand.css?c=0b5e8e-ffffff-b3421a").get_data(as_text=True) == (
        ":root{--brand:#0b5e8e;--brand-text:#ffffff;--accent:#b3421a;--brand-ink:#0b5e8e}")
    for key in ("", "0b5e8e", "0b5e8e-ffffff-b3421a;}*{x", "red-ffffff-b3421a", "0b5e8e-ffffff-b3421a-000000"):
        assert client.get("/_brand.css", query_string={"c": key}).status_code == 404, key


def test_pages_make_no_external_requests(client_for):
    for slug in ("nayoro", "kanazawa"):
        body = client_for(slug).get("/contact").get_data(as_text=True)
        assert "http://" not in body and "https://" not in body and "//cdn" not in body


def test_a_city_serves_only_its_own_assets(client_for, tmp_path):
    with client_for("kanazawa").get("/_tenant/logo.svg") as response:
        assert "金沢市企業局" in response.get_data(as_text=True)
    with client_for("nayoro").get("/_tenant/../kanazawa/assets/logo.svg") as response:
        assert response.status_code == 404


@pytest.mark.parametrize("path", [
    "/_tenant/uploads/%00", "/_tenant/uploads/a%00.png", "/_tenant/uploads/" + "a" * 5000,
    "/_tenant/uploads/%ff.png", "/_tenant/%00.png", "/_tenant/" + "a" * 5000, "/_theme/default/%00",
    "/_theme/%00/portal.css", "/_theme/default/" + "a" * 5000,
])
def test_odd_asset_names_are_a_404(client_for, path):
    # A NUL in an upload name once reached PostgreSQL, which refuses it: a 500.
    assert client_for("nayoro").get(path).status_code == 404


def test_city_texts_come_from_tenant_toml(client_for):
    about = client_for("kanazawa").get("/pages/about").get_data(as_text=True)
    assert "ご利用可能時間は、毎日AM7:00〜AM2:00の間です。" in about
    contact = client_for("nayoro").get("/contact").get_data(as_text=True)
    assert "内線 3361〜3363" in contact and "風連庁舎 2階" in contact


class _Loads:
    """Every URL a page makes the browser fetch by itself (not links the reader may follow)."""

    LOADING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
               "embed": "src", "object": "data", "image": "href", "use": "href"}

    def __init__(self, html: str):
        from html.parser import HTMLParser

        self.urls: list[str] = []
        loads = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "link" and a.get("href"):
                    loads.urls.append(a["href"])
                elif tag in loads.LOADING and a.get(loads.LOADING[tag]):
                    loads.urls.append(a[loads.LOADING[tag]])
                for value in (a.get("style") or "", a.get("srcset") or ""):
                    loads.urls += [u for u in value.replace("url(", " ").split() if "//" in u]

            def handle_data(self, data):  # inline <style>: @import and url()
                import re

                loads.urls += re.findall(r"(?:url\(|@import\s+)['\"]?([^'\")\s;]+)", data)

        Parser().feed(html)

    def external(self) -> list[str]:
        return [u for u in self.urls if "//" in u.split("?")[0] or u.startswith(("http:", "https:"))]


def test_no_page_or_stylesheet_loads_anything_from_another_site(app, client_for, make_member, nayoro, kanazawa):
    """Every GET page without arguments, anonymous and as a member, in both cities, and the
    theme's CSS/JS: no CDN, web font, analytics or other outside request."""
    import datetime as dt
    import re
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import time_machine

    static = Path(app.config["THEMES_DIR"]) / "default" / "static"
    for asset in static.iterdir():
        text = asset.read_text(encoding="utf-8")
        assert not re.search(r"https?://|@import|url\(\s*['\"]?//", text), asset.name

    pages = 0
    with time_machine.travel(dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        for city in (nayoro, kanazawa):
            make_member(city, email="taro@example.jp", login_id="taro01" if city.login_mode == "login_id" else None)
            member = client_for(city.slug)
            identifier = "taro01" if city.login_mode == "login_id" else "taro@example.jp"
            assert member.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
            for client in (client_for(city.slug), member):
                for rule in app.url_map.iter_rules():
                    if rule.arguments or "GET" not in rule.methods or rule.rule.startswith(("/vendor", "/healthz")):
                        continue
                    response = client.get(rule.rule)
                    if response.mimetype != "text/html":
                        continue
                    loads = _Loads(response.get_data(as_text=True))
                    assert loads.external() == [], (city.slug, rule.rule)
                    pages += 1
    assert pages >= 40
