"""Hostile input on every citizen form: no 500, nothing typed comes back as markup.

For both cities, as an anonymous visitor and as a logged-in member, every citizen POST
route (taken from the URL map, so a new form is fuzzed without anyone remembering it)
is sent what a browser would send (the page's own values, valid ones for empty fields,
boxes ticked) with one field at a time, and then every field at once, replaced by each
hostile value: an empty string, 10,000 characters, a NUL byte, full-width and emoji
text, a ``<script>`` tag, a negative and a huge number. Throttles are reset before
each request so a refusal never hides the path the value would take; a request that
ends the walker's state (withdrawal, logout, a finished registration) is followed by
setting it up again. The clock is frozen in the daytime: Kanazawa closes at 02:00.
"""
from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.registration_support import latest_code
from tests.upload_support import multipart
from waterportal.core import throttle
from waterportal.core.errors import CSRF_MESSAGE
from waterportal.readings.models import MeterReading

OTHER_CONSOLES = ("/admin", "/vendor")
MARKUP = '<script>alert("fuzz")</script>'
HOSTILE = [
    "",
    "x" * 10_000,
    "ab\x00cd",
    "ｆｕｚｚ＠ｅｘａｍｐｌｅ．ｊｐ😀🚰",
    MARKUP,
    "-1",
    "9" * 40,
]
# Files a hostile form sends: markup named as a PDF, garbage, a path and NUL in the name,
# a 10,000-character name, an empty name with bytes, an iPhone HEIC.
HOSTILE_FILES = [
    ("receipt.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert("fuzz")</script></svg>'),
    ("photo.jpg", bytes(range(256)) * 8),
    ('../../etc/pass\x00wd<script>alert("fuzz")</script>.png', b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    ("x" * 10_000 + ".jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
    ("", b"%PDF-1.4\n"),
    ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
]
PASSWORDS = {"nayoro": "Suido#2026ab", "kanazawa": "kanazawa2026x"}
NUMBERS = {"nayoro": "01234567890", "kanazawa": "0123456789"}
PHONE, KANA = "0165432111", "スイドウタロウ"
# Values for fields a page leaves empty (a citizen would type these).
TYPED = {
    "email": "fuzzer@example.jp", "code": "123456", "answer": "かれー", "nickname": "水道太郎",
    "login_id": "fuzzer01", "secret_answer": "かれー", "phone": PHONE, "holder_kana": KANA,
    "name": "水道太郎", "subject": "件名", "body": "本文", "label": "自宅",
}
FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>(.*?)</\1>|<(input)\b([^>]*)>", re.S | re.I)
ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


def form_fields(form_html: str) -> dict[str, str]:
    """What a browser sends for a form: its values, the first choice, every box ticked."""
    fields: dict[str, str] = {}
    for match in FIELD.finditer(form_html):
        tag = (match.group(1) or match.group(4)).lower()
        attrs = {k.lower(): html.unescape(v or "") for k, v in ATTR.findall(match.group(2) or match.group(5) or "")}
        name, kind = attrs.get("name"), attrs.get("type", "text").lower()
        if not name or name == "csrf_token" or kind in ("submit", "button"):
            continue
        if tag == "select":
            options = re.findall(r'<option[^>]*value="([^"]*)"', match.group(3))
            fields[name] = next((o for o in options if o), "")
        elif tag == "textarea":
            fields[name] = html.unescape(match.group(3))
        elif kind in ("radio", "checkbox"):
            fields.setdefault(name, attrs.get("value", "y"))
        else:
            fields[name] = attrs.get("value", "")
    return fields


def forms_of(page: str, url: str) -> dict[str, dict[str, str]]:
    """POST forms of a page by the path they post to (no action: the page itself)."""
    found = {}
    for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, flags=re.S | re.I):
        if not re.search(r'method="post"', attrs, flags=re.I):
            continue
        action = re.search(r'action="([^"]*)"', attrs)
        target = html.unescape(action.group(1)) if action and action.group(1) else url
        found[target.split("?")[0]] = form_fields(body)
    return found


class Walker:
    """One browser of one city, anonymous or a member, with the state each form needs."""

    serial = itertools.count(1)

    def __init__(self, app, client, tenant, member: bool, make_member, make_contract, tokens):
        self.app, self.client, self.tenant, self.member = app, client, tenant, member
        self.make_member, self.make_contract, self.tokens = make_member, make_contract, tokens
        self.password = PASSWORDS[tenant.slug]
        self.identifier = ""
        self.link_id = 0
        self.receipt_number = "R2026-999999"  # a visitor has none: the page answers 404 or login
        self.csrf: str | None = None

    def token(self) -> str:
        """The session's CSRF token (read once from a page every visitor can open)."""
        if self.csrf is None:
            self.csrf = self.client.csrf_token("/inquiry")
        return self.csrf

    def values(self) -> dict:
        # bill_id: the walker has no bill, so routes of one bill answer 404 to every value.
        return {"token": self.tokens(self.tenant), "link_id": self.link_id, "receipt_number": self.receipt_number,
                "bill_id": 0}

    def urls(self, rule) -> list[str]:
        """The rule's URLs: one per procedure kind the city offers for ``<kind>``, else one."""
        if "kind" not in rule.arguments:
            return [self.url(rule)]
        return [self.url(rule, kind) for kind in self.tenant.settings["procedures"]["enabled"]]

    def url(self, rule, kind: str = "") -> str:
        values = {**self.values(), "kind": kind}
        if rule.endpoint == "accounts.recover_account":
            values["token"] = self.tokens(self.tenant, recovery=True)
        if rule.endpoint == "accounts.unlock_login":
            values["token"] = self.tokens(self.tenant, unlock_link=True)
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)

    def fresh_email(self) -> str:
        return f"fuzz{next(self.serial)}@example.jp"

    def prepare(self) -> None:
        """A verified registration (anonymous) or a logged-in member with a pending email change."""
        throttle_reset(self.app)
        self.csrf = None
        if self.member:
            self._log_in()
            self.client.submit("/mypage/profile/email", {"email": self.fresh_email(), "password": self.password})
            return
        email = self.fresh_email()
        assert self.client.submit("/register/", {"email": email}).status_code == 302
        self.client.submit("/register/verify", {"code": latest_code(self.app, self.tenant, email)})
        if self.tenant.login_mode == "login_id":
            self.client.submit("/recover", {"email": email})

    def _log_in(self) -> None:
        if self.client.get("/mypage").status_code == 200:
            return
        # First login, or the fuzz withdrew the member or logged it out: a new one.
        email = self.fresh_email()
        login_id = f"fuzzer{next(self.serial):04d}" if self.tenant.login_mode == "login_id" else None
        extra = {"secret_question": "好きな食べ物は?"} if login_id else {}
        self.make_member(self.tenant, email=email, login_id=login_id, password=self.password,
                         data_visible_from=dt.date(2020, 1, 1), **extra)
        self.identifier = login_id or email
        response = self.client.submit("/login", {"identifier": self.identifier, "password": self.password})
        assert response.status_code == 302, response.get_data(as_text=True)
        contract_id = self.make_contract(self.tenant)
        self.link_id = link(self.app, self.tenant, self.identifier, contract_id)
        self.receipt_number = returned_request(self.app, self.tenant, self.identifier, contract_id)

    def typed(self, name: str) -> str:
        if "password" in name:
            return self.password
        if name == "identifier":
            return self.identifier or "fuzzer01"
        if name == "customer_number":
            return NUMBERS[self.tenant.slug]
        return TYPED.get(name, "1")


def throttle_reset(app) -> None:
    with app.app_context():
        throttle.reset_all()


def link(app, tenant, identifier: str, contract_id: int) -> int:
    """Link the member to a contract; return the link's id."""
    from sqlalchemy import func, or_, select

    from waterportal.accounts.models import Member
    from waterportal.contracts.models import MemberContract
    from waterportal.extensions import db
    from waterportal.tenancy.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        member = db.session.scalar(
            select(Member).where(or_(Member.email == identifier, func.lower(Member.login_id) == identifier.lower()))
        )
        row = MemberContract(member_id=member.id, contract_id=contract_id, label="自宅")
        db.session.add(row)
        # A day's reading: the contract can be watched (見守り, issue 14 §6), so its form is fuzzed too.
        db.session.add(MeterReading(contract_id=contract_id, reading_date=dt.date(2026, 6, 9), usage_litres=0))
        db.session.commit()
        return row.id


def returned_request(app, tenant, identifier: str, contract_id: int) -> str:
    """A 漏水減額 of the member sent back (差戻し), with a file: its page shows the resubmit
    form (multipart, files) and the withdraw button. Returns its 受付番号."""
    from sqlalchemy import func, or_, select

    from waterportal.accounts.models import Member
    from waterportal.extensions import db
    from waterportal.procedures.models import ProcedureAttachment, ProcedureRequest
    from waterportal.tenancy.context import tenant_context

    number = f"R2026-{next(Walker.serial):06d}"
    with app.app_context(), tenant_context(tenant):
        member = db.session.scalar(
            select(Member).where(or_(Member.email == identifier, func.lower(Member.login_id) == identifier.lower()))
        )
        request = ProcedureRequest(kind="leak_reduction", receipt_number=number, status="returned", member_id=member.id,
                                   contract_id=contract_id, applicant_email=member.email, payload={},
                                   fingerprint=number.ljust(64, "0"))
        db.session.add(request)
        db.session.flush()
        db.session.add(ProcedureAttachment(request_id=request.id, filename="receipt.pdf", content_type="application/pdf",
                                           size=9, sha256="0" * 64, data=b"%PDF-1.4\n"))
        db.session.commit()
        return number


@pytest.fixture
def tokens(app):
    """``tokens(city, recovery=False, unlock_link=False)`` -> a live reset/recovery token (or
    mailed unlock key) of the city's newest member."""
    from sqlalchemy import select

    from waterportal.accounts.models import Member
    from waterportal.accounts.services import UNLOCK
    from waterportal.accounts.tokens import LOGIN_RECOVERY, PASSWORD_RESET, make_token
    from waterportal.core.auth import unlock
    from waterportal.extensions import db
    from waterportal.tenancy.context import tenant_context

    def make(tenant, recovery=False, unlock_link=False) -> str:
        with app.app_context(), tenant_context(tenant):
            member = db.session.scalar(select(Member).order_by(Member.id.desc()).limit(1))
            if member is None:
                return "no-token"
            if unlock_link:
                key = unlock.issue(UNLOCK, member)
                db.session.commit()
                return key
            return make_token(tenant, member, LOGIN_RECOVERY if recovery else PASSWORD_RESET)

    return make


def post_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith(OTHER_CONSOLES)),
        # Logging out last keeps the member's walk short; the walker logs in again anyway.
        key=lambda r: (r.endpoint == "accounts.logout", r.rule),
    )


def get_urls(app, walker: Walker) -> list[str]:
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith(OTHER_CONSOLES)]
    return [url for r in rules if set(r.arguments) <= {"token", "link_id", "receipt_number", "kind"}
            for url in walker.urls(r)]


def check(response, what: str) -> str:
    assert response.status_code < 500, f"{what} answered {response.status_code}"
    if response.mimetype.startswith("image/"):  # the city's favicon and app icons: no text to check
        return ""
    body = response.get_data(as_text=True)
    assert MARKUP not in body, f"{what} sent the hostile markup back unescaped"
    return body


def shape(url: str) -> str:
    """A path with its ids, tokens and 受付番号 blanked (a re-created member has new ones)."""
    return re.sub(r"/(\d+|[\w-]{20,}\.[\w.-]+|R\d{4}-\d{6})(?=/|$)", "/*", url)


def kinds_of(rule, tenant) -> list[str]:
    """The procedure kinds the city offers for a ``<kind>`` rule; [""] for any other rule."""
    return list(tenant.settings["procedures"]["enabled"]) if "kind" in rule.arguments else [""]


def post(walker: Walker, url: str, fields: dict):
    """POST ``fields`` with the session's CSRF token; multipart when a value is a file
    (filename, bytes), as a browser sends a form with a file field."""
    data = {**fields, "csrf_token": walker.token()}
    uploads = [(name, *value) for name, value in data.items() if isinstance(value, tuple)]
    if not uploads:
        return walker.client.post(url, data=data)
    body, content_type = multipart({k: v for k, v in data.items() if isinstance(v, str)}, uploads)
    return walker.client.post(url, data=body, content_type=content_type)


@pytest.mark.parametrize("member", [False, True], ids=["visitor", "member"])
@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_hostile_values_in_every_citizen_form(app, client_for, nayoro, kanazawa, make_member, make_contract,
                                              tokens, slug, member):
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    moment = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with time_machine.travel(moment, tick=False):
        make_contract(tenant, customer_number=NUMBERS[slug], phone=PHONE, holder_name_kana=KANA)
        walker = Walker(app, client_for(slug), tenant, member, make_member, make_contract, tokens)
        walker.prepare()
        forms: dict[str, dict[str, str]] = {}  # every POST form of the walker's pages, by target
        for page_url in get_urls(app, walker):
            with walker.client.get(page_url) as response:
                if response.status_code == 200 and response.mimetype == "text/html":
                    forms.update({shape(k): v for k, v in forms_of(response.get_data(as_text=True), page_url).items()})
        sent = 0
        for rule, kind in ((r, k) for r in post_rules(app) for k in kinds_of(r, tenant)):
            walker.prepare()
            url = walker.url(rule, kind)
            baseline = {name: value or walker.typed(name) for name, value in forms.get(shape(url), {}).items()}
            # One field at a time (the others valid), then all of them at once; a form with a
            # file field also gets hostile files.
            cases = [{name: value} for name in baseline for value in HOSTILE]
            cases += [dict.fromkeys(baseline or TYPED, value) for value in HOSTILE]
            cases += [{"attachments": upload} for upload in HOSTILE_FILES if "attachments" in baseline]
            for case in cases:
                throttle_reset(app)
                shown = next(iter(case.values()))
                what = f"POST {url} {sorted(case)}={shown[:20] if isinstance(shown, str) else shown[0]!r}"
                response = post(walker, url, {**baseline, **case})
                if CSRF_MESSAGE in check(response, what):  # a login or logout renewed the session
                    walker.csrf = None
                    response = post(walker, url, {**baseline, **case})
                    assert CSRF_MESSAGE not in check(response, what)
                sent += 1
                if member and response.status_code == 302 and walker.client.get("/mypage").status_code != 200:
                    walker.prepare()  # withdrawn or logged out: a new member, logged in
                    url = walker.url(rule, kind)
        # Whatever was stored (a nickname, a label, an inquiry) shows escaped on every page.
        walker.prepare()
        for page_url in get_urls(app, walker):
            with walker.client.get(page_url) as response:
                check(response, f"GET {page_url}")
    assert len(forms) >= (12 if member else 6)
    assert sent >= 200
