"""Logo uploads: type and size checks, unsafe SVG refused, stored per city, served sandboxed."""
from __future__ import annotations

import base64
import io
import re

import pytest

from tests.admin.conftest import form_fields
from tests.conftest import city

# A real 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
CLEAN_SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
             b'<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
             b'<rect width="40" height="40" fill="url(#g)"/><text x="4" y="28">\xe9\x87\x91</text></svg>')


def upload(client, content: bytes, filename: str, action: str = "save", **changes):
    data = form_fields(client.get("/admin/settings/branding").get_data(as_text=True))
    data.update(changes)
    data["action"] = action
    data["logo_file"] = (io.BytesIO(content), filename)
    return client.post("/admin/settings/branding", data=data, content_type="multipart/form-data")


def test_a_png_logo_is_stored_in_the_database_and_served_on_the_citys_host_only(app, staff_client, client_for, audit_entries, kanazawa):
    client = staff_client("kanazawa")
    response = upload(client, PNG, "logo.png")
    assert response.status_code == 302
    logo = city(app, "kanazawa").settings["branding"]["logo"]
    assert re.fullmatch(r"uploads/[0-9a-f]{16}\.png", logo)
    served = client_for("kanazawa").get(f"/_tenant/{logo}")
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"
    assert "sandbox" in served.headers["Content-Security-Policy"] and served.headers["X-Content-Type-Options"] == "nosniff"
    assert client_for("nayoro").get(f"/_tenant/{logo}").status_code == 404
    assert f'src="/_tenant/{logo}"' in client_for("kanazawa").get("/faq").get_data(as_text=True)
    assert [e[1] for e in audit_entries(kanazawa) if e[1] in ("asset.upload", "settings.change")] == ["asset.upload", "settings.change"]


def test_a_preview_shows_the_uploaded_logo_before_saving(app, staff_client):
    client = staff_client("kanazawa")
    body = upload(client, CLEAN_SVG, "logo.svg", action="preview").get_data(as_text=True)
    name = re.search(r'name="branding.logo" value="(uploads/[0-9a-f]{16}\.svg)"', body).group(1)
    assert f"/_tenant/{name}" in body  # in the preview iframe and kept for the save
    assert city(app, "kanazawa").settings["branding"]["logo"] == "logo.png"
    data = form_fields(body)
    data["action"] = "save"
    assert client.post("/admin/settings/branding", data=data).status_code == 302
    assert city(app, "kanazawa").settings["branding"]["logo"] == name


@pytest.mark.parametrize("content, filename, message", [
    (b"just text", "logo.png", "PNG・JPEG・SVG 形式の画像を選択してください。"),
    (PNG + b"\0" * (256 * 1024), "big.png", "ファイルが大きすぎます(256KB 以下にしてください)。"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", "&lt;script&gt; を含む SVG は使用できません。"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.svg", "スクリプト(イベント属性)を含む SVG は使用できません。"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><image x:href="https://evil.example/a.png"/></svg>',
     "x.svg", "外部のファイルを参照する SVG は使用できません。"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
     "x.svg", "DOCTYPE や ENTITY を含む SVG は使用できません。"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>', "x.svg", "&lt;foreignobject&gt; を含む SVG"),
    (b"<svg><unclosed></svg>", "x.svg", "SVG として読み込めません。"),
])
def test_unsafe_or_wrong_files_are_refused_next_to_the_field(app, staff_client, content, filename, message):
    client = staff_client("kanazawa")
    body = upload(client, content, filename, **{"branding.copyright": "© 金沢"}).get_data(as_text=True)
    assert re.search(rf'id="f-branding-logo-error">{re.escape(message)}', body)
    assert 'value="© 金沢"' in body  # other input kept
    branding = city(app, "kanazawa").settings["branding"]
    assert branding["logo"] == "logo.png" and branding["copyright"] == "© 2024 金沢市企業局"  # nothing saved


def test_a_forged_logo_name_is_refused(staff_client):
    client = staff_client("kanazawa")
    data = form_fields(client.get("/admin/settings/branding").get_data(as_text=True))
    for forged in ("uploads/0000000000000000.png", "../../nayoro/assets/logo.svg"):
        data.update({"branding.logo": forged, "action": "save"})
        body = client.post("/admin/settings/branding", data=data).get_data(as_text=True)
        assert "ロゴ画像が見つかりません。" in body


def test_the_logo_can_be_removed(app, staff_client, client_for):
    client = staff_client("kanazawa")
    data = form_fields(client.get("/admin/settings/branding").get_data(as_text=True))
    data.update({"branding.logo_remove": "1", "action": "save"})
    assert client.post("/admin/settings/branding", data=data).status_code == 302
    assert city(app, "kanazawa").settings["branding"]["logo"] == ""
    assert 'class="logo"' not in client_for("kanazawa").get("/faq").get_data(as_text=True)
