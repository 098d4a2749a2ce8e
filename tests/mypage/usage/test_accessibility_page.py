"""ウェブアクセシビリティ方針 per city (issue 13 §12): target, scope, the latest check's date and result."""
from __future__ import annotations

import json
import re

import pytest

PORTAL_HOST = {"nayoro": "nayoro.localhost", "kanazawa": "kanazawa.localhost"}


def results(tmp_path, **cities) -> str:
    path = tmp_path / "accessibility.json"
    path.write_text(json.dumps({
        "checked_on": "2026-11-20", "tool": "axe-core 4.10.2", "tags": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
        "widths": [360, 1280], "languages": ["ja", "en", "easy"],
        "cities": {slug: {"pages": pages, "scans": scans, "violations": found}
                   for slug, (pages, scans, found) in cities.items()},
    }), encoding="utf-8")
    return str(path)


def main_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<main"):html.index("</main>")]))


@pytest.fixture
def results_file(app):
    original = app.config.get("ACCESSIBILITY_RESULTS")
    yield lambda path: app.config.update(ACCESSIBILITY_RESULTS=path)
    app.config["ACCESSIBILITY_RESULTS"] = original


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_policy_states_target_scope_and_the_latest_check_of_this_city(request, client_for, tmp_path, results_file, slug):
    tenant = request.getfixturevalue(slug)
    results_file(results(tmp_path, nayoro=(21, 252, 0), kanazawa=(23, 276, 2)))
    response = client_for(slug).get("/accessibility")
    assert response.status_code == 200
    text = main_text(response.get_data(as_text=True))
    assert "JIS X 8341-3:2016 の適合レベルAAに準拠することを目標とします" in text
    assert f"{tenant.name}は、{tenant.portal_name}を" in text
    assert f"(https://{PORTAL_HOST[slug]}/)のすべてのページ" in text
    checked_on = {"nayoro": "令和8年11月20日", "kanazawa": "2026/11/20"}[slug]  # the city's date_style
    assert f"試験日 {checked_on}" in text and "axe-core 4.10.2 による自動試験" in text
    pages, scans, found = {"nayoro": (21, 252, 0), "kanazawa": (23, 276, 2)}[slug]
    assert f"{pages}ページ(ログイン前・ログイン後)を、画面の幅 360px・1280px、3つの言語で、延べ{scans}回" in text
    if found:
        assert f"{found}件の問題が見つかりました" in text
    else:
        assert "問題は見つかりませんでした" in text
    assert tenant.settings["contact"]["inquiry_email"] in text


@pytest.mark.parametrize("content", [None, "{not json", '{"checked_on": "2026-11-20", "cities": {}}'])
def test_without_a_readable_check_the_page_says_none_is_published(nayoro, client_for, tmp_path, results_file, content):
    path = tmp_path / "accessibility.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    results_file(str(path))
    text = main_text(client_for("nayoro").get("/accessibility").get_data(as_text=True))
    assert "試験結果はまだ公開していません" in text and "試験日" not in text


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
@pytest.mark.parametrize("path", ["/login", "/faq", "/pages/privacy", "/accessibility"])
def test_every_footer_links_the_policy(request, client_for, slug, path):
    request.getfixturevalue(slug)
    html = client_for(slug).get(path).get_data(as_text=True)
    footer = html[html.index("<footer"):]
    assert '<a href="/accessibility">ウェブアクセシビリティ方針</a>' in footer


def test_logged_in_footer_links_the_policy(nayoro, client_for, customer, login):
    customer(nayoro, ["00012345682"])
    client = client_for("nayoro")
    login(client, nayoro)
    html = client.get("/mypage").get_data(as_text=True)
    assert '<a href="/accessibility">ウェブアクセシビリティ方針</a>' in html[html.index("<footer"):]
