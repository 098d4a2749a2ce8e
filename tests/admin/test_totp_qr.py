"""Issue 9 #4: the TOTP enrolment shows the otpauth:// URI as a QR code a phone reads
(inline SVG from segno on the staff pages, block characters in ``flask vendor totp``)."""
from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import resvg_py
import zxingcpp
from PIL import Image

from tests.admin.conftest import login_staff
from tests.admin.test_auth import require_totp
from tests.vendor_console import test_console as console_tests
from waterportal.core import qr
from waterportal.core.auth import second_factor

make_vendor = console_tests.make_vendor


def read_qr(svg: str) -> str:
    """Decode an SVG QR code as a phone camera would: rendered to pixels, then read."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=400, height=400, background="#ffffff"))
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "no QR code found in the SVG"
    return found[0].text


def enrolment_qr(page: str) -> tuple[str, str, str]:
    """(the SVG element, the URI shown as text, the secret shown as text) of an enrolment page."""
    svg = re.search(r"<svg\b[^>]*\bclass=\"totp-qr\".*?</svg>", page, re.S).group(0)
    uri = html.unescape(re.search(r'<p class="uri"><code>([^<]+)</code>', page).group(1))
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    return svg, uri, secret


def check_enrolment_page(page: str, city_name: str, email: str) -> None:
    svg, uri, secret = enrolment_qr(page)
    assert read_qr(svg) == uri  # the phone gets exactly the URI the page shows
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == f"/{city_name} 管理画面:{email}"
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": [f"{city_name} 管理画面"]}
    # Under a CSP without 'unsafe-inline': no style attribute, no script, no XML declaration.
    assert "style=" not in svg and "<script" not in svg and "<?xml" not in svg
    assert 'role="img"' in svg and "<title>2段階認証の設定用QRコード</title>" in svg
    assert "width=" not in svg.split(">", 1)[0]  # sized by admin.css, not by the SVG


def test_the_account_page_enrolment_shows_a_qr_code_of_the_uri(staff_client, kanazawa):
    client = staff_client("kanazawa", email="qr@kanazawa.example.jp")
    check_enrolment_page(client.get("/admin/account/totp").get_data(as_text=True), kanazawa.portal_name,
                         "qr@kanazawa.example.jp")


def test_the_enrolment_at_login_shows_a_qr_code_of_the_uri(app, client_for, nayoro, make_staff):
    make_staff(nayoro, email="kanri@nayoro.example.jp")
    require_totp(app, nayoro)
    client = client_for("nayoro")
    assert login_staff(client, "kanri@nayoro.example.jp").headers["Location"] == "/admin/login/totp-setup"
    check_enrolment_page(client.get("/admin/login/totp-setup").get_data(as_text=True), nayoro.portal_name,
                         "kanri@nayoro.example.jp")


def test_flask_vendor_totp_prints_the_qr_code_of_the_uri(app, runner, make_vendor, monkeypatch):
    make_vendor()
    secret = pyotp.random_base32(32)
    monkeypatch.setattr(second_factor, "new_totp_secret", lambda: secret)
    with app.app_context():
        result = runner.invoke(args=["vendor", "totp", "ops@vendor.example"], input=pyotp.TOTP(secret).now() + "\n")
    assert result.exit_code == 0, result.output
    uri = second_factor.provisioning_uri(secret, "ops@vendor.example", "上下水道ポータル ベンダー")
    assert uri in result.output and f"key (manual entry): {secret}" in result.output
    assert qr.terminal(uri) in result.output  # segno's block characters of exactly this URI
    assert read_qr(qr.svg(uri, title="t")) == uri  # and that code reads back as the URI
