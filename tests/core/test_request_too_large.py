"""A request over MAX_CONTENT_LENGTH gets the city's own page naming the limit, not a bare 413."""
from __future__ import annotations

import pytest

from tests.upload_support import multipart
from waterportal.core.errors import too_large_message


@pytest.mark.parametrize("slug, city", [("nayoro", "名寄市"), ("kanazawa", "金沢市企業局")])
def test_an_oversized_upload_gets_the_citys_page_with_the_limit(app, client_for, monkeypatch, slug, city):
    client = client_for(slug)
    token = client.csrf_token("/inquiry")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    body, content_type = multipart({"csrf_token": token, "subject": "件名"},
                                   [("file", "p.jpg", b"\xff\xd8\xff" + b"x" * 3 * 1024 * 1024)])
    response = client.post("/inquiry", data=body, content_type=content_type)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "site-footer" in page and city in page  # the city's own layout and footer
    assert "一度に送れるのは合計 2 MB までです" in page
    assert "ファイルを選び直して送信してください" in page


def test_the_message_names_the_configured_limit(app):
    assert "合計 50 MB まで" in too_large_message(app.config["MAX_CONTENT_LENGTH"])
    assert "合計" not in too_large_message(None)
