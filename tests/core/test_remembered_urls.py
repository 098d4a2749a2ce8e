"""The templates' url_for remembers each link (issue 10): the same link as Flask's, per
script root, and Flask's own url_for wherever a remembered one could differ."""
from __future__ import annotations

import pytest
from flask import render_template_string, url_for

from waterportal.core.web import REMEMBERED_URLS, remembered_url_for

LINKS = [
    ("theme_assets.static", {"theme": "default", "filename": "portal.css"}),
    ("pages.contact", {}),
    ("pages.faq", {}),
    ("pages.text_page", {"name": "about"}),
    ("pages.text_page", {"name": "privacy"}),
    ("portal.bill", {"bill_id": 7}),
    ("accounts.login", {"next": "/mypage?x=1&y=ä"}),
]


def test_the_templates_url_for_is_the_remembered_one(app):
    assert app.jinja_env.globals["url_for"] is remembered_url_for


def test_remembered_links_are_flasks_and_are_built_once(app, monkeypatch):
    known = app.extensions["waterportal.urls"]
    known.clear()
    with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
        expected = [url_for(endpoint, **values) for endpoint, values in LINKS]
        assert [remembered_url_for(endpoint, **values) for endpoint, values in LINKS] == expected
        assert len(known) == len(LINKS)
        built: list[str] = []
        monkeypatch.setattr("waterportal.core.web.url_for", lambda endpoint, **values: built.append(endpoint))
        assert [remembered_url_for(endpoint, **values) for endpoint, values in LINKS] == expected
        assert built == []
        rendered = render_template_string("{{ url_for('pages.faq') }}|{{ url_for('portal.bill', bill_id=7) }}")
        assert rendered == f"{expected[2]}|{expected[5]}"


def test_a_script_root_gets_its_own_links(app):
    with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
        plain = remembered_url_for("pages.faq")
    with app.test_request_context("/pages/about", base_url="http://nayoro.localhost/portal"):
        mounted = remembered_url_for("pages.faq")
        assert mounted == url_for("pages.faq") == "/portal" + plain


def test_what_a_remembered_link_could_get_wrong_is_built_by_flask(app):
    known = app.extensions["waterportal.urls"]
    known.clear()
    with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
        assert remembered_url_for("pages.faq", _external=True) == "http://nayoro.localhost/faq"
        assert remembered_url_for("pages.faq", _anchor="q1") == "/faq#q1"
        assert remembered_url_for("pages.faq", tags=["a", "b"]) == url_for("pages.faq", tags=["a", "b"])
        assert known == {}
    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):  # no request: Flask's answer
        remembered_url_for("pages.faq")
    assert known == {}


def test_the_remembered_links_are_bounded(app, monkeypatch):
    known = app.extensions["waterportal.urls"]
    known.clear()
    monkeypatch.setattr("waterportal.core.web.REMEMBERED_URLS", 3)
    with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
        for bill_id in range(10):
            assert remembered_url_for("portal.bill", bill_id=bill_id) == url_for("portal.bill", bill_id=bill_id)
            assert len(known) <= 3
    assert REMEMBERED_URLS >= 1000


def test_equal_arguments_of_other_types_are_other_links(app):
    """1 == True == 1.0 as dict keys, but Flask writes them differently in a query string."""
    app.extensions["waterportal.urls"].clear()
    with app.test_request_context("/pages/about", headers={"Host": "nayoro.localhost"}):
        links = [remembered_url_for("pages.faq", page=value) for value in (1, True, 1.0)]
        assert links == [url_for("pages.faq", page=value) for value in (1, True, 1.0)]
        assert len(set(links)) == 3
