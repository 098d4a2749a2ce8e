"""axe-core on every citizen page (issue 13 §11): both demo cities, logged out and logged in,
every language the city offers, at 360 and 1280 px, with the WCAG 2.1 A/AA rules: zero violations.

The pages come from the app's URL map: every GET route outside the consoles, the theme files
and the health check. A route with arguments needs an entry in ``ARGS`` (how to fill them) or
in ``NOT_PAGES`` (what it answers instead of a page), so a new page cannot escape the scan:
``test_every_citizen_route_is_known`` fails until it is added. Each distinct page (the URL the
browser lands on) is scanned once per state, language and width.

With ``AXE_RESULTS=1`` (CI) the run writes its date, pages, scans and violations to
``docs/accessibility.json`` (read by the city's accessibility policy page,
notices/accessibility.py) and ``docs/accessibility.md``; an ordinary run writes nothing.
axe-core comes with ``axe-playwright-python`` (the test extra); nothing is downloaded at run time.

Each scan also checks that nothing is cut off (tests/browser/layout.py ``clipped``: no sideways
scrolling, no text outside the window or cut in its box) and, with ``SCREENSHOTS_DIR`` set
(CI), saves the page whole (tests/browser/screenshots.py). A page that needs earlier steps
(会員登録 2/4, a form's answer) is reached by walking them (tests/browser/journeys.py); any other
page that leads elsewhere in its own state (logged out for the public pages, logged in for
/mypage) needs a reason in ``REDIRECTS``, so the walk never scans a redirect instead of a page.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.admin.alert_support import add_area_alert
from tests.browser.journeys import JOURNEYS, LOGGED_IN, LOGGED_OUT, Walk
from tests.browser.layout import clipped
from tests.browser.members import PASSWORD, member_with_bills
from tests.browser.screenshots import Shots
from tests.clock import without_libfaketime
from waterportal.accounts.models import Member
from waterportal.accounts.services import UNLOCK
from waterportal.accounts.tokens import LOGIN_RECOVERY, PASSWORD_RESET, make_token
from waterportal.billing.models import Bill
from waterportal.contracts.models import MemberContract
from waterportal.core import throttle
from waterportal.core.auth import unlock
from waterportal.extensions import db
from waterportal.notices.accessibility import RESULTS_FILE
from waterportal.procedures.kinds import get_kind
from waterportal.procedures.models import ProcedureRequest
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry

CITIES = ("nayoro", "kanazawa")
WIDTHS = (360, 1280)
LANGUAGES = ("ja", "en", "easy")  # every language a city may offer (tenancy LanguagesSchema)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NOT_CITIZEN = ("/admin", "/vendor", "/healthz", "/_", "/favicon.ico", "/apple-touch-icon.png", "/icon-",
               "/manifest.webmanifest")
# Routes that answer something other than a page (a file, JSON, a redirect to a payment provider).
NOT_PAGES = {
    "/": "a redirect to /login or /mypage",
    "/mypage/bill-documents/<bigint:issued_id>": "the issued bill's PDF",
    "/mypage/bills/<bigint:bill_id>/barcode.svg": "the slip's barcode image",
    "/mypage/bills/<bigint:bill_id>/pay": "a redirect to the payment provider",
    "/mypage/bills/<bigint:bill_id>/pdf": "the bill's PDF",
    "/mypage/bills/<bigint:bill_id>/slip.pdf": "the slip's PDF",
    "/mypage/bills/history/<bigint:contract_id>.csv": "the bill history CSV",
    "/mypage/certificates/<bigint:certificate_id>": "the certificate's PDF",
    "/mypage/documents/<bigint:document_id>": "a document's PDF",
    "/procedures/<receipt_number>/debit.pdf": "the 口座振替依頼書 PDF",
    "/procedures/<receipt_number>/files/<int:attachment_id>": "an attachment download",
    "/procedures/banks": "JSON for the bank search",
    "/procedures/banks/branches": "JSON for the branch search",
}
# How to fill each argument of a page route, from the member's own data (``own`` below).
ARGS = {
    "/mypage/alerts/<int:alert_id>": lambda own: [f"/mypage/alerts/{own['alert_id']}"],
    "/mypage/bills/<bigint:bill_id>": lambda own: [f"/mypage/bills/{own['bill_id']}"],
    "/mypage/bills/<bigint:bill_id>/slip": lambda own: [f"/mypage/bills/{own['bill_id']}/slip"],
    "/mypage/contracts/<int(max=2147483647):link_id>/label": lambda own: [f"/mypage/contracts/{own['link_id']}/label"],
    "/mypage/contracts/<int(max=2147483647):link_id>/remove": lambda own: [f"/mypage/contracts/{own['link_id']}/remove"],
    "/pages/<name>": lambda own: ["/pages/about", "/pages/privacy", "/pages/terms"],
    "/procedures/<receipt_number>": lambda own: [f"/procedures/{own['receipt_number']}"],
    "/procedures/new/<kind>": lambda own: [f"/procedures/new/{kind}" for kind in own["kinds"]],
    "/login/unlock/<token>": lambda own: [f"/login/unlock/{own['unlock_token']}", "/login/unlock/not-a-valid-token"],
    "/password/reset/<token>": lambda own: [f"/password/reset/{own['reset_token']}"],
    "/recover/<token>": lambda own: [f"/recover/{own['recovery_token']}"],
}


def citizen_rules(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.rule.startswith(NOT_CITIZEN)), key=lambda rule: rule.rule)


def paths(app, own: dict) -> list[str]:
    found = []
    for rule in citizen_rules(app):
        if rule.rule in NOT_PAGES:
            continue
        found.extend(ARGS[rule.rule](own) if rule.arguments else [rule.rule])
    return found


def test_every_citizen_route_is_known(app):
    unknown = [rule.rule for rule in citizen_rules(app)
               if rule.arguments and rule.rule not in ARGS and rule.rule not in NOT_PAGES]
    assert unknown == [], f"tell tests/browser/test_axe.py how to scan these routes (ARGS or NOT_PAGES): {unknown}"
    stale = [rule for rule in (*ARGS, *NOT_PAGES) if rule not in {r.rule for r in citizen_rules(app)}]
    assert stale == [], f"routes that no longer exist: {stale}"


@pytest.mark.browser
def test_the_scan_reports_what_the_rules_forbid(browser):
    """The options the walk uses do report a WCAG A failure (an image without a text alternative)."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="ja"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
    found: list[str] = []
    assert scan_page(Axe(), page, "test", "/", found) and "image-alt" in found[0]
    context.close()


def own_data(app, slug: str) -> tuple[str, dict]:
    """A committed member with bills, a contract link and a procedure request; what to type at
    the login and the values of the routes' arguments."""
    identifier, _number, _rows = member_with_bills(app, slug)
    with app.app_context():
        city = get_registry().by_slug(slug)
        with tenant_context(city):
            member = db.session.scalar(select(Member).where(
                (Member.email == identifier) | (Member.login_id == identifier)))
            link = db.session.scalar(select(MemberContract).where(MemberContract.member_id == member.id))
            bill_id = db.session.scalar(select(Bill.id).where(Bill.contract_id == link.contract_id)
                                        .order_by(Bill.billing_month.desc()))
            request = ProcedureRequest(kind="move_out", receipt_number=f"R2026-9{member.id:05d}", member_id=member.id,
                                       contract_id=link.contract_id, applicant_email=member.email,
                                       fingerprint=f"axe-{member.id}")
            db.session.add(request)
            db.session.commit()
            own = {"bill_id": bill_id, "link_id": link.id, "receipt_number": request.receipt_number,
                   "kinds": list(city.settings["procedures"]["enabled"]),
                   "reset_token": make_token(city, member, PASSWORD_RESET),
                   "recovery_token": make_token(city, member, LOGIN_RECOVERY),
                   "unlock_token": unlock.issue(UNLOCK, member)}
            db.session.commit()
    with app.app_context():
        city = get_registry().by_slug(slug)
        with tenant_context(city):
            contract_id = db.session.get(MemberContract, own["link_id"]).contract_id
    own["alert_id"] = add_area_alert(app, city, contract_id)  # its banner on the dashboard, its page
    return identifier, own


def log_in(page, live_server, slug: str, identifier: str) -> None:
    page.goto(live_server.url(slug, "/login"))
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/mypage")


class Scanner:
    """What one city's walk found: axe's violations, what is cut off, the pages that led
    elsewhere; each page scanned once per landing address, state, language and width."""

    def __init__(self, axe, slug: str, own: dict):
        self.axe, self.slug, self.own = axe, slug, own
        self.shots = Shots(slug)
        self.seen: set = set()
        self.found: list[str] = []  # axe's violations
        self.problems: list[str] = []  # what is cut off; pages scanned in another state than their own
        self.scans = 0
        self.seconds: dict[str, float] = {}  # time spent per step, printed by the test

    def visit(self, walk: Walk, state: str, path: str, name: str = "") -> None:
        """Scan the page the browser is on, which ``path`` led to."""
        landed = urlsplit(walk.page.url).path  # /login?next=... is the login page again
        label = f"{state} {walk.language} {walk.width}px"
        if landed != path and at_home(path, state) and not redirects(path):
            self.problems.append(f"{self.slug} {label} {path} led to {landed}: walk the steps that reach it "
                              f"(tests/browser/journeys.py) or say why in REDIRECTS")
        key = f"{landed} ({name})" if name else landed
        if (key, label) in self.seen:
            return
        self.seen.add((key, label))
        started = time.perf_counter()
        self.scans += scan_page(self.axe, walk.page, f"{self.slug} {label}", key, self.found)
        checked = time.perf_counter()
        self.problems += [f"{self.slug} {label} {key}: {problem}" for problem in clipped(walk.page)]
        shot = time.perf_counter()
        self.shots.take(walk.page, walk.language, walk.width, self.page_name(key, state))
        for step, seconds in (("axe", checked - started), ("clipped", shot - checked),
                              ("screenshots", time.perf_counter() - shot)):
            self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    def page_path(self, key: str) -> str:
        """The address with the walk's ids and tokens named (they change every run):
        /mypage/bills/<bill_id>."""
        names = {str(value): f"<{arg}>" for arg, value in reversed(self.own.items())  # the first wins
                 if isinstance(value, str | int) and not isinstance(value, bool)}
        return "/".join(names.get(segment, segment) for segment in key.split("/"))

    def page_name(self, key: str, state: str) -> str:
        """The screenshot's name: the page's path as a file name, the state when a public page
        is seen logged in, the answer's name."""
        key = self.page_path(key)
        name = re.sub(r"[^a-z0-9_()-]+", "-", key.lower()).strip("-").replace("(", "-").replace(")", "") or "top"
        return f"{name}--{state}" if state == LOGGED_IN and not key.startswith("/mypage") else name


def at_home(path: str, state: str) -> bool:
    """Whether ``state`` is the page's own (logged out for the public pages, logged in for /mypage)."""
    return path.startswith("/mypage") == (state == LOGGED_IN)


# Pages that lead elsewhere in their own state, and why (not for want of earlier steps).
REDIRECTS = {
    "/procedures/receipt": "the 受付番号 of this browser's last filing: logged out, none (the logged-in walk files one)",
    "/recover": "login-ID cities only; an email city sends it to /password/forgot",
    "/recover/question": "login-ID cities only",
    "/password/forgot": "email cities only; a login-ID city sends it to /recover",
}


def redirects(path: str) -> bool:
    """A known reason for ``path`` to lead elsewhere: REDIRECTS, or a procedure only members file."""
    if path.startswith("/procedures/new/"):
        return get_kind(path.rsplit("/", 1)[1]).needs_login
    return path in REDIRECTS


def scan_page(axe, page, label: str, landed: str, found: list) -> int:
    """Run axe with the WCAG 2.1 A/AA rules on ``page``; add each violation to ``found``."""
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    for violation in result.response["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:3]
        found.append(f"{label} {landed}: {violation['id']} ({violation['impact']}) {targets}")
    return 1


def record_results(run: dict, slug: str, part: dict, json_path: Path = RESULTS_FILE,
                   md_path: Path = RESULTS_FILE.with_suffix(".md")) -> None:
    """Put one city's walk in one language (``part``) into ``json_path``, keeping the other
    parts (under xdist they run in other workers, hence the lock): the city's totals are its
    parts' (pages: the union of their paths), the run's languages all the parts'. Rewrite
    ``md_path`` from it."""
    with open(json_path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            cities = json.loads(json_path.read_text(encoding="utf-8")).get("cities", {})
        except (OSError, ValueError):
            cities = {}
        parts = {**cities.get(slug, {}).get("parts", {}), part["language"]: part}
        paths = sorted({path for one in parts.values() for path in one["paths"]})
        cities[slug] = {"pages": len(paths), "scans": sum(one["scans"] for one in parts.values()),
                        "violations": sum(one["violations"] for one in parts.values()), "paths": paths,
                        "found": [item for one in parts.values() for item in one["found"]], "parts": parts}
        scanned = {language for city in cities.values() for language in city.get("parts", {})}
        data = {**run, "languages": [code for code in LANGUAGES if code in scanned],
                "cities": {name: cities[name] for name in sorted(cities)}}
        json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        md_path.write_text(markdown(data), encoding="utf-8")
    json_path.with_suffix(".lock").unlink(missing_ok=True)


def markdown(data: dict) -> str:
    lines = ["# Accessibility check (axe-core)", "",
             "Written by `tests/browser/test_axe.py` when CI runs it with `AXE_RESULTS=1`; each city's "
             "ウェブアクセシビリティ方針 page (/accessibility) reads `accessibility.json` next to this file.", "",
             f"- Date: {data['checked_on']}", f"- Tool: {data['tool']}, rules tagged {', '.join(data['tags'])}",
             f"- Widths: {', '.join(f'{w} px' for w in data['widths'])}; languages: {', '.join(data['languages'])}",
             "", "| city | pages | scans | violations |", "|---|---|---|---|"]
    lines += [f"| {slug} | {city['pages']} | {city['scans']} | {city['violations']} |"
              for slug, city in data["cities"].items()]
    for slug, city in data["cities"].items():
        lines += ["", f"## {slug}: pages scanned", ""] + [f"- `{path}`" for path in city["paths"]]
        lines += [f"- violation: {item}" for item in city["found"]]
    return "\n".join(lines) + "\n"


def walk_city(axe, browser, live_server, live_app, slug: str, languages: list[str], widths) -> Scanner:
    """Scan every page of ``slug`` in each language and width: in a fresh browser, the public
    pages logged out, then every page logged in; each state's journeys last."""
    identifier, own = own_data(live_app, slug)
    path_list = paths(live_app, own)
    scanner = Scanner(axe, slug, own)
    for language in languages:
        for width in widths:
            with live_app.app_context():
                throttle.reset_all()  # each walk sends its own mails and forms; the per-address limits count all six
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
            context.add_cookies([{"name": "lang", "value": language, "url": live_server.url(slug)}])
            walk = Walk(context.new_page(), live_server, live_app, slug, language, width)
            for state in (LOGGED_OUT, LOGGED_IN):
                if state == LOGGED_IN:
                    log_in(walk.page, live_server, slug, identifier)
                journeys = [journey for journey in JOURNEYS if journey.state == state and journey.when(walk)]
                reached = {journey.path for journey in journeys if not journey.name}
                for path in path_list:
                    if (state == LOGGED_IN or not path.startswith("/mypage")) and path not in reached:
                        walk.page.goto(walk.url(path))
                        scanner.visit(walk, state, path)
                for journey in journeys:
                    journey.go(walk)
                    scanner.visit(walk, state, journey.path, journey.name)
            context.close()
    return scanner


@pytest.mark.browser
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", CITIES)
def test_axe_finds_no_violation_on_any_citizen_page(browser, live_server, live_app, slug, language):
    """One city in one language (six tests, so that xdist shares the walk among its workers)."""
    from axe_playwright_python.sync_playwright import Axe

    with live_app.app_context():
        if language not in get_registry().by_slug(slug).settings["languages"]["offered"]:
            pytest.skip(f"{slug} does not offer {language}: add it to [languages] offered in tenants/{slug}/tenant.toml "
                        "(or tick it in the console, 設定 → 表示言語) to scan it "
                        "(both demo cities offer all three, so CI scans all six)")
    scanner = walk_city(Axe(), browser, live_server, live_app, slug, [language], WIDTHS)
    index = scanner.shots.write_index()
    print(f"{slug} {language}: {scanner.scans} scans, {len(scanner.shots.taken)} screenshots"
          f"{f' ({index})' if index else ''}; " + ", ".join(f"{step} {sec:.0f} s" for step, sec in scanner.seconds.items()))
    found = scanner.found
    landed = sorted({scanner.page_path(key) for key, _label in scanner.seen})
    if os.environ.get("AXE_RESULTS") == "1":
        record_results({"checked_on": real_date(), "tool": f"axe-core {axe_version(scanner.axe)}", "tags": TAGS,
                        "widths": list(WIDTHS)}, slug,
                       {"language": language, "pages": len(landed), "scans": scanner.scans, "violations": len(found),
                        "paths": landed, "found": found})
    assert "/accessibility" in landed and "/mypage" in landed and "/mypage/bills/<bill_id>" in landed
    assert not found and not scanner.problems, "\n".join(found + scanner.problems)


def real_date() -> str:
    """Today's date in Japan from the system clock (the suite's own clock is frozen; the check's date is real)."""
    with without_libfaketime():
        return subprocess.run(["date", "+%Y-%m-%d"], capture_output=True, text=True, check=True,
                              env={**os.environ, "TZ": "Asia/Tokyo"}).stdout.strip()


def axe_version(axe) -> str:
    match = re.search(r"axe v(\d+\.\d+\.\d+)", axe.axe_script[:200])
    return match.group(1) if match else "unknown"


def test_each_city_s_results_are_merged_into_the_file(tmp_path):
    run = {"checked_on": "2026-11-27", "tool": "axe-core 4.12.1", "tags": TAGS, "widths": list(WIDTHS)}
    json_path, md_path = tmp_path / "accessibility.json", tmp_path / "accessibility.md"
    for slug, language, found, paths in (("nayoro", "ja", [], ["/faq", "/login"]),
                                         ("kanazawa", "en", ["kanazawa /faq: region (moderate)"], ["/faq", "/login"]),
                                         ("nayoro", "en", [], ["/faq", "/register/"]), ("nayoro", "ja", [], ["/faq", "/login"])):
        record_results(run, slug, {"language": language, "pages": 2, "scans": 8, "violations": len(found),
                                   "paths": paths, "found": found}, json_path, md_path)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert list(data["cities"]) == ["kanazawa", "nayoro"] and data["cities"]["kanazawa"]["violations"] == 1
    assert data["languages"] == ["ja", "en"]
    nayoro = data["cities"]["nayoro"]
    assert (nayoro["pages"], nayoro["scans"], nayoro["paths"]) == (3, 16, ["/faq", "/login", "/register/"])
    text = md_path.read_text(encoding="utf-8")
    assert "| nayoro | 3 | 16 | 0 |" in text and "- violation: kanazawa /faq: region (moderate)" in text
    assert not json_path.with_suffix(".lock").exists()
