"""The default theme's accessibility promises, checked on both real cities.

* Every form control on every citizen form page (anonymous, registration steps, member
  pages, token pages, and the same forms re-rendered with errors) has a label tied to it,
  and its error / hint ids exist on the page.
* Every text colour of the theme reaches 4.5:1 on the backgrounds it is drawn on, with
  each city's own branding colours.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.registration_support import Registration, details_data, latest_code
from waterportal.accounts.models import Member
from waterportal.accounts.tokens import LOGIN_RECOVERY, PASSWORD_RESET, make_token
from waterportal.contracts.models import MemberContract
from waterportal.extensions import db
from waterportal.tenancy.branding import PAGE_BACKGROUND, contrast_ratio, ink
from waterportal.tenancy.context import tenant_context

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "themes" / "default" / "static"
NOT_LABELLED = {"hidden", "submit", "button", "image", "reset"}


class Controls(HTMLParser):
    """Form controls, <label for> targets, controls wrapped in a <label>, and all ids."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and (a.get("type") or "text") not in NOT_LABELLED:
            self.controls.append({**a, "_tag": tag, "_wrapped": self._label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def unlabelled(html: str) -> list[str]:
    """Problems on one page: controls nobody can name, and dangling aria-describedby ids."""
    parser = Controls()
    parser.feed(html)
    problems = []
    for c in parser.controls:
        name = f"<{c['_tag']} name={c.get('name')!r} id={c.get('id')!r}>"
        if not (c.get("id") in parser.label_for or c["_wrapped"] or c.get("aria-label") or c.get("aria-labelledby")):
            problems.append(f"no label: {name}")
        for ref in (c.get("aria-describedby") or "").split():
            if ref not in parser.ids:
                problems.append(f"aria-describedby={ref!r} missing: {name}")
    return problems


def control_count(html: str) -> int:
    parser = Controls()
    parser.feed(html)
    return len(parser.controls)


def _check(client, url, checked, problems, data=None):
    """GET (or POST ``data``) ``url``; record label problems of a page with a form.

    Pages one city does not have (e.g. /recover in an email-login city) answer 404 and are
    not posted to.
    """
    if data is not None:
        shown = client.get(url)
        if shown.status_code != 200 or 'name="csrf_token"' not in shown.get_data(as_text=True):
            return shown
    response = client.submit(url, data, form_page=url) if data is not None else client.get(url)
    html = response.get_data(as_text=True)
    if response.status_code == 200 and control_count(html):
        checked.append(f"{'POST' if data is not None else 'GET'} {url}")
        problems.extend(f"{url}: {p}" for p in unlabelled(html))
    return response


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_every_form_control_has_a_label(app, slug, client_for, make_contract, make_member, clock, request):
    city = request.getfixturevalue(slug)
    checked: list[str] = []
    problems: list[str] = []

    anonymous = client_for(slug)
    for url in ("/login", "/password/forgot", "/recover", "/inquiry", "/register/"):
        _check(anonymous, url, checked, problems)
        _check(anonymous, url, checked, problems, data={})  # re-rendered with errors

    # Registration 2/4 (details) and 3/4 (confirm), also 2/4 with every field wrong.
    number = "12345678901" if slug == "nayoro" else "1234567890"
    make_contract(city, customer_number=number, phone="0165432111" if slug == "nayoro" else "0762202111",
                  holder_name_kana="スイドウタロウ")
    registering = client_for(slug)
    steps = Registration(app, registering, city)
    assert steps.send_code("hanako@example.jp").status_code == 302
    _check(registering, "/register/verify", checked, problems)
    _check(registering, "/register/verify", checked, problems, data={"code": "12"})
    assert steps.enter_code(latest_code(app, city, "hanako@example.jp")).status_code == 302
    _check(registering, "/register/details", checked, problems)
    _check(registering, "/register/details", checked, problems,
           data={k: "" for k in details_data(city, number)})
    _check(registering, "/register/details", checked, problems, data=details_data(city, number))
    _check(registering, "/register/confirm", checked, problems)

    # Member pages and the token pages.
    member_id = make_member(city, email="taro@example.jp", login_id="taro01" if slug == "kanazawa" else None)
    contract_id = make_contract(city, customer_number=str(int(number) + 1).zfill(len(number)))
    with app.app_context(), tenant_context(city):
        link = MemberContract(member_id=member_id, contract_id=contract_id, label="自宅")
        db.session.add(link)
        db.session.commit()
        link_id = link.id
        member = db.session.scalar(select(Member).where(Member.id == member_id))
        tokens = make_token(city, member, PASSWORD_RESET), make_token(city, member, LOGIN_RECOVERY)
    _check(anonymous, f"/password/reset/{tokens[0]}", checked, problems)
    _check(anonymous, f"/recover/{tokens[1]}", checked, problems)

    member_client = client_for(slug)
    identifier = "taro01" if slug == "kanazawa" else "taro@example.jp"
    assert member_client.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
    member_pages = [
        "/mypage", "/mypage/bills", "/mypage/graph", "/mypage/contracts", "/mypage/profile",
        "/mypage/profile/email", "/mypage/profile/nickname", "/mypage/profile/notifications",
        "/mypage/profile/password", "/mypage/withdraw", "/inquiry",
        f"/mypage/contracts/{link_id}/label", f"/mypage/contracts/{link_id}/remove",
    ]
    if city.login_mode == "login_id":
        member_pages.append("/mypage/profile/secret")
    for url in member_pages:
        _check(member_client, url, checked, problems)
    for url in ("/mypage/profile/nickname", "/mypage/profile/password", "/mypage/profile/email", "/mypage/withdraw"):
        _check(member_client, url, checked, problems, data={})

    assert problems == []
    # The walk really reached the forms (not a login redirect everywhere).
    for must in ("GET /login", "POST /login", "GET /register/verify", "POST /register/verify", "GET /register/details", "POST /register/details",
                 "GET /mypage/profile/password", "POST /mypage/profile/password", "GET /inquiry",
                 f"GET /password/reset/{tokens[0]}", f"GET /mypage/contracts/{link_id}/label"):
        assert must in checked, (must, checked)


# --- colour contrast -------------------------------------------------------------------

PAGE_BACKGROUNDS = ("#ffffff", "#f6f7f9")  # cards/inputs/footer, and the page body
HEX = r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}\b"


def _full(hex_colour: str) -> str:
    h = hex_colour.lower()
    return "#" + "".join(c * 2 for c in h[1:]) if len(h) == 4 else h


def css_text_colours() -> list[tuple[str, str, str | None]]:
    """(selector, text colour, its own background or None) for every literal text colour.

    A selector's background may be set in another rule of the same sheet
    (``.badge-new{background:…}`` next to ``.badge-new,.badge-important{color:#fff}``).
    """
    found = []
    for sheet in sorted(STATIC.glob("*.css")):
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        rules = [([s.strip() for s in sel.split(",")], body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]
        backgrounds = {}
        for selectors, body in rules:
            if bg := re.search(rf"background(?:-color)?:\s*({HEX})", body):
                backgrounds.update({s: _full(bg.group(1)) for s in selectors})
        for selectors, body in rules:
            if colour := re.search(rf"(?:^|;)\s*color:\s*({HEX})", body):
                found += [(f"{sheet.name} {s}", _full(colour.group(1)), backgrounds.get(s)) for s in selectors]
    return found


def test_the_theme_has_text_colours_to_check():
    selectors = {s for s, _, _ in css_text_colours()}
    for expected in ("portal.css .error", "portal.css .hint", "portal.css body"):
        assert expected in selectors


# Colours every city shares (greys, white, the focus ring, error red, paid green, the failed
# 口座振替 alert's red and its pale background); any other colour in the theme would be one
# city's hue (issue 13 #5: Nayoro's blue on Kanazawa's buttons).
SHARED_PALETTE = {"#ffffff", "#1a1a1a", "#f6f7f9", "#4a4f57", "#6b7280", "#c8ccd2", "#d5d9de", "#e1e4e8",
                  "#ffbf47", "#b00020", "#1b6e20", "#d5d8dc", "#9aa0a6", "#b42318", "#fff5f4"}


def test_the_theme_takes_every_city_colour_from_the_branding_variables():
    links_and_buttons = {s: c for s, c, _ in css_text_colours() if s.split()[1] in ("a", "button.secondary")}
    assert not links_and_buttons, links_and_buttons
    for sheet in sorted(STATIC.glob("*.css")):
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        other = {_full(c) for c in re.findall(HEX, css)} - SHARED_PALETTE
        assert not other, f"{sheet.name} hard-codes {sorted(other)}: take it from --brand, --brand-ink or --accent"


@pytest.mark.parametrize("brand", ["#0b5e8e", "#7a1f2b", "#ffdd00", "#8fbc8f", "#ffffff"])
def test_the_brand_ink_reads_on_the_page(brand):
    colour = ink(brand)
    assert contrast_ratio(colour, PAGE_BACKGROUND) >= 4.5 and contrast_ratio(colour, "#ffffff") >= 4.5
    if contrast_ratio(brand, PAGE_BACKGROUND) >= 4.5:
        assert colour == brand  # a readable brand colour is used as it is


@pytest.mark.parametrize("selector, colour, background", css_text_colours())
def test_theme_text_colours_reach_4_5_to_1(selector, colour, background):
    # White text is only ever drawn on its own dark background (badges).
    backgrounds = (background,) if background else PAGE_BACKGROUNDS
    for bg in backgrounds:
        assert contrast_ratio(colour, bg) >= 4.5, f"{selector}: {colour} on {bg} is {contrast_ratio(colour, bg):.2f}:1"


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_each_citys_branding_colours_reach_4_5_to_1(slug, request):
    branding = request.getfixturevalue(slug).settings["branding"]
    brand, text, accent = branding["primary_color"], branding["primary_text_color"], branding["accent_color"]
    # Header, header links and buttons: brand text on the brand colour.
    assert contrast_ratio(text, brand) >= 4.5
    # The brand and accent colours also mark headings, flashes and notices on the page backgrounds
    # (and a city template may use them for text), so they must read as text there too.
    for bg in PAGE_BACKGROUNDS:
        assert contrast_ratio(brand, bg) >= 4.5, (brand, bg)
        assert contrast_ratio(accent, bg) >= 4.5, (accent, bg)
