"""No Japanese left on English pages and mails, and no manual's sentence on やさしい日本語 ones
(issue 13 §10).

A member of each demo city, with bills, reads in English: every citizen page of the URL map
whose arguments the walk can fill (the member's bills and documents, each procedure form, the
receipt and detail page of every kind filed with valid values), every procedure form sent back
with garbage in each field (refusals are where Japanese made in Python hides: the garbage
includes a month and a date outside what the forms take), and the mails those filings send in
the member's English. The visible text (text, ``title``, ``alt``, ``placeholder``,
``aria-label``, option labels) must hold no hiragana, katakana or kanji except, explicitly:

- inside an element marked ``lang="ja"`` (a screen reader then reads it as Japanese): the
  language names of the switch, the city's reduction kinds, the prefectures, the katakana
  examples of the hints;
- the language switch's label ("Language / 言語");
- the manual's term beside its English, for the citizen to find it on paper: "Symbol (記号)";
- proper names this test knows exactly: the city's name and portal name, the member's and the
  contract's data (names, kana, address, label), the bank and branch names the walk's queries
  find, the names and addresses the walk typed (a refused form shows them back), the account
  holder as the bank prints it;
- the city's own texts, as it wrote them in its settings (each line, each part between
  placeholders): the slip's payment channels, its questions, notes and signature, shown in
  Japanese where the city gives no English.

The same member walk in やさしい日本語 fails on any sentence of the manuals' Japanese that the
easy catalogue rewrites (a message made in Python without gettext shows the manual's words).
"""
from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.core.test_i18n import catalogue
from tests.mypage.usage.conftest import bill_ids, customer, history_rows, load, login  # noqa: F401 - fixtures
from tests.procedures import files
from tests.test_form_fuzz import form_fields, forms_of
from tests.upload_support import multipart
from waterportal.accounts.models import Member
from waterportal.billing.models import Bill
from waterportal.core.i18n import SWITCH_LABEL
from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.procedures import services as procedure_services
from waterportal.procedures.models import (
    STATUS_COMPLETED,
    STATUS_IN_PROGRESS,
    STATUS_RECEIVED,
    STATUS_RETURNED,
    ProcedureRequest,
)
from waterportal.tenancy.context import tenant_context

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]+")
NUMBERS = {"nayoro": "00012345682", "kanazawa": "0100012345"}
NEWEST = {"nayoro": ("2026-10", 1), "kanazawa": ("2026-09", 2)}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
# Valid values of each kind's form (choices and the reduction kind come from the form itself).
VALID = {
    "move_in": {"address": "西4条南1丁目1番地", "start_date": "2026-11-25", "name": "水道 花子",
                "name_kana": "スイドウ ハナコ", "phone": "09012345678", "persons": "3", "payment": "口座振替"},
    "move_out": {"stop_date": "2026-11-30", "final_address": "札幌市中央区北1条西2丁目",
                 "final_payment": "転居先に納付書を送ってもらう", "contact_phone": "09012345678"},
    "holder_change": {"new_name": "水道 花子", "new_name_kana": "スイドウハナコ", "relationship": "配偶者",
                      "reason": "ご家族の間での名義の変更", "effective_date": "2026-11-24", "phone": "0165432111"},
    "billing_address": {"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "street": "千代田1-1",
                        "recipient": "水道 太郎"},
    "payment_method": {"method": "口座振替（新規の申込み・口座の変更）", "bank": "北海道", "branch": "名寄",
                       "account_type": "普通", "account_number": "1234567", "holder_kana": "すいどう たろう"},
    "paperless": {"choice": "ペーパーレスにする（紙の検針票の郵送をやめる）", "consent": "y"},
    "reduction": {"beneficiary_name": "水道 太郎", "certificate_number": "A-1234567", "start_month": "2026-12",
                  "phone": "0165-43-2111"},
    "leak_reduction": {"leak_location": "建物の床下・壁の中の給水管", "leak_detail": "台所の床下",
                       "noticed_on": "2026-10-20", "repaired_on": "2026-10-25", "repairer_name": "名寄管工株式会社",
                       "repairer_phone": "01654-2-0000", "first_month": "2026-09", "last_month": "2026-10",
                       "phone": "0165432111"},
}
# Garbage a citizen might type: each refused in the page's language, none of it Japanese (a
# month or a date outside what a form takes: the refusal names the months or dates it takes).
GARBAGE = ("zz?!", "-1", "2026-13-45", "9" * 25, "2020-01", "2030-01-01")


class VisibleText(HTMLParser):
    """The text a reader sees or hears, outside elements marked ``lang="ja"``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden: lang="ja", script or style)
        self.parts: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(hidden for _tag, hidden in self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        hidden = values.get("lang") == "ja" or tag in ("script", "style", "template")
        if not (self.hidden or hidden):
            self.parts += [values[name] for name in SHOWN_ATTRIBUTES if values.get(name)]
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self.parts.append(values["value"])
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data)


def visible(page: str) -> list[str]:
    parser = VisibleText()
    parser.feed(page)
    parser.close()
    return parser.parts


# The manual's term beside its English, for the citizen to find it on paper: "Symbol (記号)".
TERM_BESIDE_ENGLISH = re.compile(r"(?<=[A-Za-z]) \((?:[\u3040-\u30ff\u3400-\u9fff]+)\)")


def leaks(texts, allowed: set[str]) -> list[str]:
    """The Japanese in ``texts`` (line by line) that is none of the ``allowed`` proper names."""
    found = []
    for text in texts:
        for line in text.splitlines():
            shown = line
            for name in sorted(allowed, key=len, reverse=True):
                line = line.replace(name, " ")
            line = TERM_BESIDE_ENGLISH.sub("", line)
            found += [f"{run} <- {shown.strip()[:160]}" for run in JAPANESE.findall(line)]
    return found


@functools.cache
def rewritten_sentences() -> tuple[str, ...]:
    """The manuals' sentences (no placeholder, 10 characters or more) that やさしい日本語 rewrites."""
    return tuple(message for message, entry in catalogue("easy").items()
                 if message.endswith("。") and len(message) >= 10 and "%(" not in message and entry.string != message)


def standard_sentences(texts) -> list[str]:
    """The sentences of the manuals' Japanese left on a やさしい日本語 page or mail."""
    text = "\n".join(texts)
    return [sentence for sentence in rewritten_sentences() if sentence in text]


def city_texts(settings) -> set[str]:
    """The city's own texts (its settings' strings), each line and each part between
    placeholders: shown as the city wrote them where the city gives no English."""
    if isinstance(settings, str):
        return {part.strip() for part in re.split(r"\{\w+\}|\n", settings) if JAPANESE.search(part)}
    values = settings.values() if hasattr(settings, "values") else settings if isinstance(settings, (list, tuple)) else ()
    return set().union(*(city_texts(value) for value in values)) if values else set()


def typed_words() -> set[str]:
    """The Japanese the walk types into free fields (names, addresses): a refused form shows it
    back, and the account holder is shown as the bank prints it. Not the choices: those are the
    form's words, shown translated."""
    from waterportal.procedures.kana import bank_kana
    from waterportal.procedures.kinds import load_catalog

    words = {bank_kana(VALID["payment_method"]["holder_kana"]).value}  # the holder as the bank prints it
    for key, kind in load_catalog().items():
        fields = kind.schema().fields
        words |= {value for name, value in VALID.get(key, {}).items()
                  if JAPANESE.search(value) and not fields[name].metadata.get("choices")}
    return words


def bank_names(*queries: str) -> set[str]:
    """The names of the banks (and their branches) the walk's bank queries find: by name, or
    by the 4-digit code a value starts with (a garbage "2030-01-01" names bank 2030)."""
    from waterportal.procedures import banks

    names = set()
    for query in queries:
        found = banks.resolve_bank(query)
        for bank in [*banks.search_banks(query), *([found.found] if found.found else []), *found.candidates]:
            names.add(bank.name)
            names |= {branch.name for branch in banks.search_branches(bank, VALID["payment_method"]["branch"])}
    return names


class EnglishWalk:
    """One member of one city reading in English, and what the walk met that was left Japanese."""

    def __init__(self, app, client, tenant, member_id, language: str = "en"):
        self.app, self.client, self.tenant, self.member_id = app, client, tenant, member_id
        self.language = language
        self.found: dict[str, list[str]] = {}
        self.checked: list[str] = []  # every page looked at
        self.allowed = ({tenant.name, tenant.portal_name, SWITCH_LABEL} | self.member_words() | typed_words()
                        | city_texts(tenant.settings) | bank_names(VALID["payment_method"]["bank"], *GARBAGE))

    def member_words(self) -> set[str]:
        from waterportal.contracts.models import Contract, MemberContract

        with self.app.app_context(), tenant_context(self.tenant):
            member = db.session.get(Member, self.member_id)
            words = {member.nickname}
            contracts = db.session.scalars(select(Contract).join(MemberContract).where(
                MemberContract.member_id == self.member_id)).all()
            labels = db.session.scalars(select(MemberContract.label).where(MemberContract.member_id == self.member_id))
            for contract in contracts:
                words |= {contract.holder_name, contract.holder_name_kana, contract.address}
            words |= set(labels)
        return {word for word in words if word}

    def check(self, where: str, page: str) -> None:
        self.checked.append(where)
        found = self.left(visible(page))
        if found:
            self.found[where] = found

    def left(self, texts) -> list[str]:
        """English: any Japanese but the allowed; やさしい日本語: the manuals' sentences it rewrites."""
        return leaks(texts, self.allowed) if self.language == "en" else standard_sentences(texts)

    def get(self, path: str):
        response = self.client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            self.check(f"GET {path}", response.get_data(as_text=True))
        return response


def citizen_paths(app, bill_id: int, receipt_numbers: list[str], kinds: list[str] = ()) -> list[str]:
    """Every GET route of the citizen's site whose arguments the walk can fill."""
    values = {"bill_id": [str(bill_id)], "receipt_number": receipt_numbers, "kind": list(kinds)}
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.split(".")[0] in ("admin", "vendor", "static", "theme_assets"):
            continue
        if rule.rule.startswith(("/admin", "/vendor", "/static", "/themes", "/logout")):
            continue
        arguments = sorted(rule.arguments)
        if not arguments:
            paths.add(rule.rule)
        elif arguments in (["bill_id"], ["receipt_number"], ["kind"]):
            for value in values[arguments[0]]:
                paths.add(re.sub(r"<[^>]+>", value, rule.rule))
    return sorted(paths)


@pytest.fixture(params=[("nayoro", "en"), ("kanazawa", "en"), ("nayoro", "easy"), ("kanazawa", "easy")],
                ids=lambda param: "-".join(param))
def walk(request, app, client_for, customer, login, nayoro, kanazawa):  # noqa: F811
    slug, language = request.param
    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    newest, step = NEWEST[slug]
    member_id = customer(tenant, [NUMBERS[slug]], bills=history_rows(NUMBERS[slug], 3, newest=newest, step=step),
                         language=language)
    client = client_for(slug)
    client.set_cookie("lang", language, domain=client.host)
    login(client, tenant)
    return EnglishWalk(app, client, tenant, member_id, language)


def send(client, kind: str, fields: dict, uploads=()):
    token = client.csrf_token(f"/procedures/new/{kind}")
    body, content_type = multipart({"csrf_token": token, **fields}, [("attachments", n, d) for n, d in uploads])
    return client.post(f"/procedures/new/{kind}", data=body, content_type=content_type)


def refuse_every_field(walk, enabled) -> dict[str, dict[str, str]]:
    """Every field of every kind, one at a time, holding each garbage value; then all at once.
    The forms' own values (what a browser sends), by kind."""
    forms = {}
    for kind in enabled:
        form = walk.get(f"/procedures/new/{kind}").get_data(as_text=True)
        defaults = forms[kind] = form_fields(form.split("<main", 1)[-1])
        for name in [name for name in defaults if name not in ("csrf_token", "lang", "next")]:
            for garbage in GARBAGE:
                response = send(walk.client, kind, {**defaults, **VALID[kind], name: garbage})
                walk.check(f"POST {kind} {name}={garbage!r} ({response.status_code})", response.get_data(as_text=True))
        response = send(walk.client, kind, {name: "zz?!" for name in defaults if name != "contract_id"})
        walk.check(f"POST {kind} all garbage", response.get_data(as_text=True))
    return forms


def correct_with_garbage(walk, app) -> None:
    """Each sent-back request's form, each field holding garbage in turn."""
    client = walk.client
    with app.app_context(), tenant_context(walk.tenant):
        returned = db.session.scalars(select(ProcedureRequest.receipt_number)
                                      .where(ProcedureRequest.status == STATUS_RETURNED)).all()
    assert returned
    for number in returned:
        page = client.get(f"/procedures/{number}").get_data(as_text=True)
        fields = forms_of(page, f"/procedures/{number}").get(f"/procedures/{number}")
        assert fields is not None, f"{number}: no form to correct a sent-back request"
        for name in [name for name in fields if name not in ("action", "contract_id")]:
            response = client.post(f"/procedures/{number}", data={
                **fields, name: "zz?!", "csrf_token": client.csrf_token(f"/procedures/{number}")})
            walk.check(f"POST /procedures/{number} {name}='zz?!' ({response.status_code})",
                       response.get_data(as_text=True))
    assert [where for where in walk.checked if where.startswith("POST /procedures/R") and "(422)" in where]


# Forms the walk leaves alone: the language switch and the logout (退会 is refused: it asks for
# the password, and the walk sends garbage).
LEFT_ALONE = ("/language", "/logout")


def refuse_page_forms(walk, paths) -> None:
    """The forms of the member's other pages (account, contracts, inquiry...), sent empty and
    with garbage in every field."""
    from waterportal.core import throttle

    token = walk.client.csrf_token("/inquiry")
    for path in paths:
        response = walk.client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html" or path.startswith("/procedures"):
            continue
        for target, fields in forms_of(response.get_data(as_text=True), path).items():
            if target.startswith(LEFT_ALONE) or target.startswith("/procedures"):
                continue
            for garbage in ("", "zz?!"):
                throttle.reset_all()
                refused = walk.client.post(target, data={**dict.fromkeys(fields, garbage), "csrf_token": token})
                if refused.mimetype == "text/html":
                    walk.check(f"POST {target} {garbage!r} ({refused.status_code})", refused.get_data(as_text=True))


def test_pages_and_mails_hold_no_japanese_the_language_replaces(walk, app):
    tenant, client = walk.tenant, walk.client
    enabled = tenant.settings["procedures"]["enabled"]
    forms = refuse_every_field(walk, enabled)
    # Filed with valid values: the receipt, then (below) the request's page.
    numbers, receipts = [], {}
    for kind in enabled:
        defaults = forms[kind]
        uploads = [("photo.jpg", files.jpeg())] if kind in ("reduction", "leak_reduction") else []
        response = send(client, kind, {**defaults, **VALID[kind]}, uploads)
        assert response.status_code == 302, (kind, html.unescape(response.get_data(as_text=True))[-3000:])
        receipts[kind] = html.unescape(walk.get("/procedures/receipt").get_data(as_text=True))
        with app.app_context(), tenant_context(tenant):
            numbers.append(db.session.scalars(select(ProcedureRequest.receipt_number)
                                              .order_by(ProcedureRequest.id.desc())).first())
    # The city answers: every other request sent back (差戻し) with a note, the rest completed;
    # the citizen reads the status mails and the request pages, and a sent-back request's form
    # refuses garbage in the page's language too.
    with app.app_context(), tenant_context(tenant):
        for index, number in enumerate(numbers):
            filed = db.session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_number == number))
            if filed.status != STATUS_RECEIVED:  # done at once (the city's settings)
                continue
            procedure_services.change_status(tenant, filed, STATUS_IN_PROGRESS, "", "system:test")
            procedure_services.change_status(tenant, filed, STATUS_COMPLETED if index % 2 else STATUS_RETURNED,
                                             "Please check the dates.", "system:test")
        db.session.commit()
        bill_id = db.session.scalars(select(Bill.id).order_by(Bill.id.desc())).first()
    paths = citizen_paths(app, bill_id, numbers)
    assert {"/mypage/bills", f"/mypage/bills/{bill_id}", f"/procedures/{numbers[-1]}"} <= set(paths)
    for path in paths:
        walk.get(path)
    refuse_page_forms(walk, paths)
    posted = {where.split(" ")[1] for where in walk.checked if where.startswith("POST /")}
    assert {"/inquiry", "/mypage/contracts", "/mypage/profile/nickname", "/mypage/profile/password"} <= posted
    correct_with_garbage(walk, app)
    with app.app_context(), tenant_context(tenant):
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {"procedure_received", "procedure_status"} <= {mail.kind for mail in mails}
    for mail in mails:
        found = walk.left([mail.subject, mail.body])
        if found:
            walk.found[f"mail {mail.kind} {mail.id}"] = found
    first: dict[str, list[str]] = {}  # each leak once, with where it was met
    for where, found in walk.found.items():
        for leak in found:
            first.setdefault(leak, []).append(where)
    report = "\n".join(f"{leak}  [{places[0]}; {len(places)} places]" for leak, places in first.items())
    assert walk.found == {}, f"Japanese left on English pages and mails:\n{report}"

    if walk.language == "easy":
        assert "げんめんを はじめたい 月</dt><dd>2026年12月の ぶんから</dd>" in receipts["reduction"]
        return
    # What used to be left: the months of the receipt rows and of the month-range refusal, in
    # English on the page and in the member's English mail.
    assert "Month to start the reduction</dt><dd>From December 2026</dd>" in receipts["reduction"]
    assert "</dt><dd>September 2026</dd>" in receipts["leak_reduction"]
    reduction_mail = next(m.body for m in reversed(mails) if "Month to start the reduction" in m.body)
    assert "Month to start the reduction: From December 2026" in reduction_mail
    refused = html.unescape(send(client, "reduction", {**forms["reduction"], **VALID["reduction"],
                                                       "start_month": "2020-01"}).get_data(as_text=True))
    assert "November 2026" in refused and "May 2027" in refused
    bills = html.unescape(client.get("/mypage/bills").get_data(as_text=True))
    assert "Issue a Certificate of payment (収納済証明書)" in bills  # the city's title is the manual's
    if "paperless" in enabled:
        refused = send(client, "paperless", {**forms["paperless"], **VALID["paperless"], "consent": "zz"})
        assert "Please tick the box to give your consent." in refused.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_english_pages_of_a_visitor_hold_no_japanese(app, client_for, nayoro, kanazawa, slug):
    """A visitor without an account, in English: every page without arguments, and each of
    their forms sent back refused, empty and with garbage in every field."""
    from waterportal.core import throttle

    tenant = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    client = client_for(slug)
    client.set_cookie("lang", "en", domain=client.host)
    token = client.csrf_token("/inquiry")
    found: dict[str, list[str]] = {}
    allowed = ({tenant.name, tenant.portal_name, SWITCH_LABEL} | city_texts(tenant.settings)
               | bank_names(*GARBAGE))
    for path in citizen_paths(app, 0, [], tenant.settings["procedures"]["enabled"]):
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        found[f"GET {path}"] = leaks(visible(page), allowed)
        for target, fields in forms_of(page, path).items():
            if target in ("/language", "/logout") or target.startswith(("/admin", "/vendor")):
                continue
            for garbage in ("", "zz?!", "2030-01-01"):
                throttle.reset_all()
                refused = client.post(target, data={**{name: garbage for name in fields}, "csrf_token": token})
                if refused.mimetype == "text/html":
                    found[f"POST {target} {garbage!r} ({refused.status_code})"] = leaks(
                        visible(refused.get_data(as_text=True)), allowed)
    assert {"GET /login", "GET /inquiry", "POST /login 'zz?!' (200)", "GET /procedures/new/move_in",
            "GET /register/"} <= set(found), sorted(found)
    found = {where: leaks_there for where, leaks_there in found.items() if leaks_there}
    assert found == {}, "\n".join(f"{where}: {leaks_there[:5]}" for where, leaks_there in found.items())


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "上下水道局 issues this invoice for the Sewer charge of 下水道部 as well, under the special rule for "
           "intermediaries (媒介者交付特例)."),
    ("easy", "この せいきゅうしょは、上下水道局が 下水道部の げすいどうの りょうきんの ぶんも いっしょに だして います"),
    ("ja", "この請求書は、上下水道局が下水道部の下水道使用料を媒介者交付特例により併せて交付するものです。"),
])
def test_the_intermediary_note_of_a_city_with_two_issuers_is_in_the_language(
        app, client_for, nayoro, customer, login, bill_ids, monkeypatch, language, expected):  # noqa: F811
    """A city whose water and sewer charges have different issuers: the bill page's 媒介者交付特例
    note in the page's language (the PDF keeps the Japanese)."""
    from waterportal.billing import invoice
    from waterportal.mypage.usage import views

    issuers = [{"charge": "water", "name": "上下水道局", "registration_number": "T7000012050002"},
               {"charge": "sewer", "name": "下水道部", "registration_number": "T4011001098993"}]

    def two_issuers(settings, contract, bill):
        return invoice.invoice_facts({**settings, "invoice": {**settings["invoice"], "issuers": issuers,
                                                              "intermediary_note": True}}, contract, bill)

    monkeypatch.setattr(views, "invoice_facts", two_issuers)
    number = NUMBERS["nayoro"]
    customer(nayoro, [number], bills=history_rows(number, 1))
    client = client_for("nayoro")
    client.set_cookie("lang", language, domain=client.host)
    login(client, nayoro)
    bill_id = next(iter(bill_ids(nayoro, number).values()))
    page = html.unescape(client.get(f"/mypage/bills/{bill_id}").get_data(as_text=True))
    assert expected in page
