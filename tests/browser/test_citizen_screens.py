"""Issue 13: what a citizen sees, in Chromium at 360 px (a phone) and 1280 px (a PC), in both
demo cities. Each test writes its screenshots under its own tmp dir (``<name>-<city>-<width>.png``,
kept by pytest's basetemp, never committed) and checks the layout by the rendered geometry."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.layout import no_sideways_scroll, reaches_by_tab
from tests.browser.members import PASSWORD, member_with_bills
from waterportal.tenancy.branding import contrast_ratio
from waterportal.tenancy.registry import get_registry

PHONE, PC = {"width": 360, "height": 740}, {"width": 1280, "height": 900}
CITIES = ("nayoro", "kanazawa")


def log_in(page, live_server, slug: str, identifier: str) -> None:
    page.goto(live_server.url(slug, "/login"))
    label = "メールアドレス" if slug == "nayoro" else "ログインID"
    page.get_by_label(label, exact=True).fill(identifier)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")


def shoot(page, folder: Path, name: str) -> None:
    """The whole page as a PNG under the test's tmp dir."""
    page.screenshot(path=str(folder / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found, locator
    return found






@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_bills_are_cards_on_a_phone_and_an_unclipped_table_on_a_pc(page, live_server, live_app, tmp_path, slug):
    """#1: on a phone each bill is a card (請求月, 使用量, 合計, 納付状況 first); at 1280 px the
    nine columns fit in the page, and the table's scroll region is reached by the keyboard."""
    identifier, _number, rows = member_with_bills(live_app, slug)
    newest = rows[-1]
    log_in(page, live_server, slug, identifier)
    page.goto(live_server.url(slug, "/mypage/bills"))
    expect(page.get_by_role("heading", name="料金明細", exact=True)).to_be_visible()
    cards = page.locator(".bill-card")
    expect(cards).to_have_count(len(rows))
    first = cards.first
    assert first.locator("dt").all_inner_texts()[:3] == ["使用量", "合計", "納付状況"]
    assert f"{int(newest['total']):,} 円" in first.inner_text() and "未納" in first.inner_text()
    assert box(first)["x"] + box(first)["width"] <= 360
    expect(page.locator(".bills-wrap")).to_be_hidden()
    assert no_sideways_scroll(page)
    shoot(page, tmp_path, f"bills-{slug}")
    first.get_by_role("link").click()
    page.wait_for_url("**/mypage/bills/*")
    expect(page.get_by_role("heading", name="料金明細の詳細")).to_be_visible()

    page.set_viewport_size(PC)
    page.goto(live_server.url(slug, "/mypage/bills"))
    expect(page.locator(".bill-cards")).to_be_hidden()
    region = page.get_by_role("region", name="料金明細(新しい順)")
    expect(region).to_be_visible()
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table is clipped at 1280 px"
    for header in ("合計", "納期限", "納付状況"):
        cell = box(page.get_by_role("columnheader", name=header))
        assert cell["x"] + cell["width"] <= box(region)["x"] + box(region)["width"] + 1, header
    assert region.get_attribute("tabindex") == "0" and reaches_by_tab(page, ".bills-wrap")
    assert no_sideways_scroll(page)
    shoot(page, tmp_path, f"bills-{slug}")


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_dashboard_amount_first_on_a_phone_and_the_manuals_layout_on_a_pc(page, live_server, live_app, tmp_path,
                                                                          slug):
    """#2: the amount, its due date and status on the phone's first screen; on a PC the amount
    and a 12-period usage chart on the left, ④⑤⑥ on the right, サポート ⑦⑧⑨ below."""
    identifier, _number, rows = member_with_bills(live_app, slug)
    log_in(page, live_server, slug, identifier)
    amount = page.locator(".bill-amount")
    expect(amount).to_have_text(f"{int(rows[-1]['total']):,} 円")
    facts = page.locator(".bill-now .facts")
    for locator in (amount, facts.get_by_text("納期限"), facts.get_by_text("未納")):
        assert box(locator)["y"] + box(locator)["height"] <= PHONE["height"], "below the phone's first screen"
    chart = page.get_by_role("img", name="使用量の推移(直近12回)")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar-now").count() == 12
    assert no_sideways_scroll(page)
    shoot(page, tmp_path, f"dashboard-{slug}")

    page.set_viewport_size(PC)
    page.reload()
    bill, menu = box(page.locator(".bill-now")), box(page.locator(".main-menu"))
    small_chart, support = box(chart), box(page.locator(".support"))
    assert bill["x"] + bill["width"] <= menu["x"], "the amount is left of the buttons"
    assert abs(bill["y"] - menu["y"]) < 40, "the amount and the buttons start side by side"
    assert small_chart["y"] > bill["y"] and small_chart["x"] + small_chart["width"] <= menu["x"]
    for label in ("使用量・請求金額のグラフ", "料金明細", "書類ダウンロード"):
        button = box(page.locator(".main-menu").get_by_role("link", name=label, exact=True))
        assert button["x"] >= menu["x"] and button["height"] >= 60, label
    assert support["y"] >= max(small_chart["y"] + small_chart["height"], menu["y"] + menu["height"]) - 1
    for label in ("会員登録情報の照会・変更", "退会のお手続き", "各種お手続き"):
        expect(page.locator(".support").get_by_role("link", name=label, exact=True)).to_be_visible()
    greeting = box(page.get_by_text("風連花子さま、"))
    assert greeting["y"] < bill["y"], "the greeting heads the PC page, as in the manual"
    shoot(page, tmp_path, f"dashboard-{slug}")


SVG_TEXT_SIZES = """svg => [...svg.querySelectorAll('text')].map(t => {
  const size = parseFloat(getComputedStyle(t).fontSize);
  return [t.textContent, size * t.getScreenCTM().a];
})"""


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_chart_text_is_12px_on_a_phone_and_the_table_is_keyboard_scrollable(page, live_server, live_app, tmp_path,
                                                                            slug):
    """#3: every text of the graph page's and the dashboard's charts renders at 12 px or more at
    360 px; the data table's scroll region takes the focus."""
    identifier, _number, _rows = member_with_bills(live_app, slug)
    log_in(page, live_server, slug, identifier)
    small = page.locator("svg[role=img]").evaluate(SVG_TEXT_SIZES)
    page.goto(live_server.url(slug, "/mypage/graph"))
    expect(page.get_by_role("img", name="使用量の推移(m³)")).to_be_visible()
    sizes = small + [size for svg in page.locator("figure svg").all() for size in svg.evaluate(SVG_TEXT_SIZES)]
    assert len(sizes) > 20
    too_small = [(text, round(px, 1)) for text, px in sizes if px < 12]
    assert not too_small, too_small
    region = page.get_by_role("region", name="請求月ごとの使用量と請求金額(前年同期との比較)")
    assert region.get_attribute("tabindex") == "0" and reaches_by_tab(page, ".table-wrap")
    region.focus()
    page.keyboard.press("ArrowRight")  # a focused region scrolls by keyboard
    assert no_sideways_scroll(page)
    shoot(page, tmp_path, f"graph-{slug}")
    page.set_viewport_size(PC)
    page.reload()
    # The two monthly charts (the smart meter's 30 days, issue 14 §6, come in a card of their own below).
    charts = [box(svg) for svg in page.locator(".charts figure svg").all()]
    assert len(charts) == 2 and charts[0]["y"] == charts[1]["y"], "the two charts side by side on a PC"
    shoot(page, tmp_path, f"graph-{slug}")


@pytest.mark.browser
def test_kanazawa_login_comes_first_on_a_phone_and_right_of_registration_on_a_pc(page, live_server, tmp_path):
    """#4: a returning member sees the login field before the 会員登録 card on a phone, the
    whole field on the first screen of a 360 x 640 phone in every language (the header's
    language switch folded); on a PC the manual's two columns (会員登録 left, login right)."""
    page.set_viewport_size({"width": 360, "height": 640})
    for language in ("ja", "en", "easy"):
        page.context.add_cookies([{"name": "lang", "value": language, "url": live_server.url("kanazawa")}])
        page.goto(live_server.url("kanazawa", "/login"))
        shoot(page, tmp_path, f"login-kanazawa-{language}")
        login_id = box(page.locator("#identifier"))
        register = box(page.locator(".new-member .button"))
        assert 0 <= login_id["y"] and login_id["y"] + login_id["height"] <= 640, (language, login_id)
        assert login_id["y"] < register["y"] and no_sideways_scroll(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live_server.url("kanazawa")}])
    page.set_viewport_size(PC)
    page.reload()
    login_id, register = box(page.get_by_label("ログインID", exact=True)), box(page.get_by_role("link", name="会員登録する"))
    assert register["x"] + register["width"] < login_id["x"] and abs(register["y"] - login_id["y"]) < 200
    shoot(page, tmp_path, "login-kanazawa")


def rgb_hex(css: str) -> str:
    """``rgb(11, 94, 142)`` -> ``#0b5e8e``."""
    r, g, b = (int(part) for part in css[css.index("(") + 1:css.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


COLOURS = """() => {
  const style = (sel, prop) => { const e = document.querySelector(sel); return e ? getComputedStyle(e)[prop] : null; };
  return {
    header: style('.site-header', 'backgroundColor'), header_text: style('.portal-name', 'color'),
    primary: style('.menu-button:not(.secondary)', 'backgroundColor'), primary_text: style('.menu-button:not(.secondary)', 'color'),
    secondary_text: style('.logout button', 'color'), secondary_border: style('.logout button', 'borderTopColor'),
    secondary_bg: style('.logout button', 'backgroundColor'), link: style('.support ~ * a, .site-footer a', 'color'),
    page: style('body', 'backgroundColor'), brand: getComputedStyle(document.documentElement).getPropertyValue('--brand').trim(),
    ink: getComputedStyle(document.documentElement).getPropertyValue('--brand-ink').trim(),
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_every_colour_is_the_citys_and_reads_at_4_5_to_1(page, live_server, live_app, tmp_path, slug):
    """#5: the header, the buttons (ログアウト, 切り替える and the menu) and the links take the
    city's branding colours, each at 4.5:1 or more against what is behind it."""
    with live_app.app_context():
        branding = get_registry().by_slug(slug).settings["branding"]
    identifier, _number, _rows = member_with_bills(live_app, slug)
    log_in(page, live_server, slug, identifier)
    seen = {name: (rgb_hex(value) if value and value.startswith("rgb") else value)
            for name, value in page.evaluate(COLOURS).items()}
    assert seen["brand"] == branding["primary_color"]
    assert seen["header"] == seen["primary"] == branding["primary_color"]
    assert seen["header_text"] == seen["primary_text"] == branding["primary_text_color"]
    assert seen["secondary_text"] == seen["secondary_border"] == seen["link"] == seen["ink"]
    assert seen["secondary_bg"] == "#ffffff"
    pairs = {"header": (seen["header_text"], seen["header"]), "button": (seen["primary_text"], seen["primary"]),
             "secondary": (seen["secondary_text"], seen["secondary_bg"]), "link": (seen["link"], seen["page"])}
    weak = {name: round(contrast_ratio(*pair), 2) for name, pair in pairs.items() if contrast_ratio(*pair) < 4.5}
    assert not weak, weak
    shoot(page, tmp_path, f"colours-{slug}")


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_the_profile_and_contracts_tables_read_on_a_phone(page, live_server, live_app, tmp_path, slug):
    """#6: 「呼び名を変更」 stays on one line; the profile's headings take at most two lines."""
    identifier, _number, _rows = member_with_bills(live_app, slug)
    log_in(page, live_server, slug, identifier)
    page.goto(live_server.url(slug, "/mypage/contracts"))
    rename = page.get_by_role("link", name="呼び名を変更")
    line = float(rename.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert box(rename)["height"] < 1.5 * line
    region = page.locator(".table-wrap[role=region]")
    assert region.get_attribute("tabindex") == "0"
    shoot(page, tmp_path, f"contracts-{slug}")
    assert no_sideways_scroll(page), page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 360).map(e => e.outerHTML.slice(0, 80))")
    page.goto(live_server.url(slug, "/mypage/profile"))
    headers = page.locator(".profile-table th")
    line = float(headers.first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    for header in headers.all():
        assert box(header)["height"] <= 2 * line + 16, header.inner_text()  # two lines and the padding
    assert no_sideways_scroll(page)
    shoot(page, tmp_path, f"profile-{slug}")
    page.set_viewport_size(PC)
    page.reload()
    shoot(page, tmp_path, f"profile-{slug}")
    page.goto(live_server.url(slug, "/mypage/contracts"))
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth")
    shoot(page, tmp_path, f"contracts-{slug}")


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_focus_goes_to_the_error_summary_and_to_the_code_field(page, live_server, live_app, tmp_path, slug):
    """#7: a failed submit puts the focus on the error summary; once the code is sent, on the
    code field; the profile page has its ログアウト."""
    page.goto(live_server.url(slug, "/login"))
    page.get_by_role("button", name="ログイン", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    shoot(page, tmp_path, f"login-error-{slug}")

    page.goto(live_server.url(slug, "/register"))
    page.get_by_label("メールアドレス", exact=True).fill("not-an-address")
    page.get_by_role("button", name="認証コードの送信").click()
    expect(page.locator(".error-summary")).to_be_focused()
    page.get_by_label("メールアドレス", exact=True).fill(f"focus-{slug}@example.jp")
    page.get_by_role("button", name="認証コードの送信").click()
    expect(page.get_by_label("認証コード")).to_be_focused()
    shoot(page, tmp_path, f"code-sent-{slug}")

    identifier, _number, _rows = member_with_bills(live_app, slug)
    log_in(page, live_server, slug, identifier)
    page.goto(live_server.url(slug, "/mypage/profile"))
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("slug", CITIES)
def test_each_city_has_its_favicon_app_icon_and_manifest(page, live_server, live_app, tmp_path, slug):
    """#9: no 404 on any page's requests (the favicon was one); the manifest names the portal
    and its icons, drawn from the city's logo."""
    missing = []
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    page.goto(live_server.url(slug, "/login"))
    page.wait_for_load_state("networkidle")
    favicon = page.evaluate(FETCH, "/favicon.ico")
    assert favicon["status"] == 200 and favicon["type"] == "image/x-icon"
    assert not missing, missing
    manifest = page.evaluate(FETCH, page.locator("link[rel=manifest]").get_attribute("href"))
    with live_app.app_context():
        city = get_registry().by_slug(slug)
    assert manifest["type"] == "application/manifest+json"
    assert manifest["json"]["name"] == city.portal_name and manifest["json"]["start_url"] == "/"
    assert manifest["json"]["theme_color"] == city.settings["branding"]["primary_color"]
    icons = [page.locator("link[rel=apple-touch-icon]").get_attribute("href")]
    icons += [entry["src"] for entry in manifest["json"]["icons"]]
    for src in icons:
        answer = page.evaluate(FETCH, src)
        assert answer["status"] == 200 and answer["type"] == "image/png", src
        (tmp_path / f"{slug}{src.replace('/', '-')}").write_bytes(base64.b64decode(answer["data"]))  # to look at


# A request made by the page itself (the cities' hosts resolve inside Chromium only).
FETCH = """async url => {
  const r = await fetch(url);
  const type = (r.headers.get('content-type') || '').split(';')[0];
  if (type.endsWith('json')) return {status: r.status, type, json: await r.json()};
  const bytes = new Uint8Array(await r.arrayBuffer());
  return {status: r.status, type, data: btoa(Array.from(bytes, b => String.fromCharCode(b)).join(''))};
}"""
