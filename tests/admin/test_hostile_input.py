"""Every console form, posted by a city admin with hostile values in every field.

The forms are found, not listed: every GET page under /admin is read, every POST form
on it is collected with the names of its fields, and every POST rule of the url_map is
posted (with the fields of its form, or a few generic ones when no page draws it). Each
post must answer without a 500, echo no markup unescaped, and when it is refused (the
form comes back) leave the city's data exactly as it was.
"""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from tests.admin.alert_support import add_area_alert
from tests.billing.issued import issued_bill
from tests.conftest import city
from tests.procedures.staff_support import add_request
from waterportal.accounts.models import Member
from waterportal.admin.models import SettingsRevision, StaffMember
from waterportal.admin.settings.groups import GROUPS, TRANSLATABLE, VARIANT_LANGUAGES
from waterportal.admin.settings.services import apply_overrides
from waterportal.admin.staff.services import UNLOCK
from waterportal.alerts.models import AreaAlert, AreaAlertText
from waterportal.contracts.models import MemberContract
from waterportal.core.auth import unlock
from waterportal.extensions import db
from waterportal.imports.models import ImportBatch
from waterportal.inquiries.models import Inquiry
from waterportal.notices.models import Notice, NoticeText
from waterportal.procedures.models import ProcedureAttachment, ProcedureEvent, ProcedureRequest
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant, TenantAsset

MARKUP = "<script>alert('x')</script>"
HOSTILE = {
    "empty": "",
    "long": "長" * 10_000,
    "nul": "abc\x00def",
    "markup": MARKUP,
    "negative": "-1",
    "huge": "9" * 40,
    "bad-time": "25:99",
    "bad-date": "2026-13-45T99:99",
    "full-width": "０７：００",
}
# Also posted one field at a time among valid values (where a value can be saved, and so
# half-saved); the numeric and time kinds only all at once, which keeps the walk short.
ONE_BY_ONE = {"empty", "long", "nul", "markup", "huge"}
# Routes whose form is not on a page of their own; what they read from the request.
GENERIC_FIELDS = ("throttle", "action", "version", "code", "secret_token")
NOT_AN_IMAGE = b"MZ\x90\x00 this is no image, nor a CSV \x00\xff"
# What a form sent back with errors carries.
REFUSED = ('aria-invalid="true"', 'class="error-summary"', 'class="error"')
# Leave the session (and the data others rely on) for the end of each walk.
LAST = ("admin.notice_delete", "admin.area_alert_withdraw", "admin.member_unlink_contract", "admin.logout")
# Not a form: the vendor console's link is a GET with its own key.
SKIP = {"admin.static", "admin.vendor_login"}


@pytest.fixture
def city_data(app, make_staff, make_member, make_contract):
    """``city_data("kanazawa")`` -> the ids every /admin URL of that city needs."""

    def make(slug: str) -> dict:
        tenant = city(app, slug)
        staff_id = make_staff(tenant, email=f"other-{slug}@example.jp", role="operator")
        member_id = make_member(tenant, email=f"shimin-{slug}@example.jp", login_id=f"shimin{slug}")
        contract_id = make_contract(tenant)
        with app.app_context(), tenant_context(tenant):
            notice = Notice(title="既存のお知らせ", body="本文")
            link = MemberContract(member_id=member_id, contract_id=contract_id)
            inquiry = Inquiry(name="市民", email=f"shimin-{slug}@example.jp", category="その他",
                              subject="件名", body="本文")
            batch = ImportBatch(kind="contracts", filename="contracts.csv", sha256="0" * 64, status="ok")
            db.session.add_all([notice, link, inquiry, batch])
            revision = apply_overrides(tenant, {"notices": {"new_badge_days": 3}}, actor=f"staff:{staff_id}")
            token = unlock.issue(UNLOCK, db.session.get(StaffMember, staff_id))  # a live unlock link
            db.session.commit()
            ids = {"notice_id": notice.id, "staff_id": staff_id, "number": revision.number,
                   "member_id": member_id, "link_id": link.id, "inquiry_id": inquiry.id, "batch_id": batch.id,
                   "token": token}
        # A procedure request with a file (各種お手続き: status, assignment, export).
        ids["request_id"] = add_request(app, tenant, "move_in", "received",
                                        files=(("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt"),))
        with app.app_context(), tenant_context(tenant):
            ids["attachment_id"] = db.session.scalar(select(ProcedureAttachment.id))
        ids["issued_id"] = issued_bill(app, tenant, contract_id)  # a bill PDF as issued (billing.issuing)
        ids["alert_id"] = add_area_alert(app, tenant, contract_id)  # 地区別のお知らせ
        return ids

    return make


def snapshot(app, tenant) -> tuple:
    """What a refused form must not change (audit entries and refused import batches may be added)."""
    with app.app_context(), tenant_context(tenant):
        row = db.session.get(Tenant, tenant.id)
        return (
            row.version, repr(row.overrides),
            [(n.id, n.title, n.body, n.important, n.published_at, n.expires_at, n.mail_members)
             for n in db.session.scalars(select(Notice).order_by(Notice.id))],
            [(t.notice_id, t.language, t.title, t.body)
             for t in db.session.scalars(select(NoticeText).order_by(NoticeText.id))],
            [(s.id, s.email, s.name, s.role, s.disabled, s.totp_secret, s.password_hash, s.session_version)
             for s in db.session.scalars(select(StaffMember).order_by(StaffMember.id))],
            db.session.scalar(select(func.count(SettingsRevision.id))),
            db.session.scalar(select(func.count(MemberContract.id))),
            db.session.scalar(select(func.count(TenantAsset.id))),
            [(i.id, i.status) for i in db.session.scalars(select(Inquiry).order_by(Inquiry.id))],
            [(m.id, m.session_version) for m in db.session.scalars(select(Member).order_by(Member.id))],
            [(r.id, r.status, r.assignee_id, r.exported_at)
             for r in db.session.scalars(select(ProcedureRequest).order_by(ProcedureRequest.id))],
            db.session.scalar(select(func.count(ProcedureEvent.id))),
            [(a.id, a.kind, a.title, a.body, a.starts_at, a.ends_at, a.withdrawn_at)
             for a in db.session.scalars(select(AreaAlert).order_by(AreaAlert.id))],
            [(t.alert_id, t.language, t.title, t.body)
             for t in db.session.scalars(select(AreaAlertText).order_by(AreaAlertText.id))],
        )


def paths(rule, ids) -> list[str]:
    """The URLs of a rule for this city's data (a settings rule once per settings page, and once
    per translation of a translatable page: ``?lang=en``)."""
    groups = list(GROUPS) if "group_slug" in rule.arguments else [None]
    built = [rule.build({name: g if name == "group_slug" else ids[name] for name in rule.arguments},
                        append_unknown=False)[1] for g in groups]
    if "group_slug" in rule.arguments:
        built += [f"/admin/settings/{g}?lang={code}" for g in TRANSLATABLE for code in VARIANT_LANGUAGES]
    return built


def post_forms(body: str) -> dict[str, dict[str, str]]:
    """``{action path: {field name: value a browser would send}}`` of the POST forms of a page
    (buttons, file inputs and unchecked boxes by name with the value None: sent only when hostile)."""
    forms: dict[str, dict[str, str]] = {}
    for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", body, re.DOTALL):
        if not re.search(r'method="post"', attrs, re.IGNORECASE):
            continue
        action = html.unescape((re.search(r'action="([^"]*)"', attrs) or [None, ""])[1])
        if not action.startswith("/admin/settings/"):  # a settings translation's ?lang= is its own form
            action = action.split("?")[0]
        fields: dict = {}
        for tag, name in re.findall(r'(<(?:input|button)\b[^>]*\bname="([^"]+)"[^>]*>)', inner):
            kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
            value = re.search(r'value="([^"]*)"', tag)
            sent = tag.startswith("<input") and kind not in ("file", "password", "submit") and (
                kind not in ("checkbox", "radio") or " checked" in tag)
            if sent or html.unescape(name) not in fields:
                fields[html.unescape(name)] = html.unescape(value.group(1)) if sent and value else None
        for name, value in re.findall(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', inner, re.DOTALL):
            fields[html.unescape(name)] = html.unescape(value)
        for name, options in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', inner, re.DOTALL):
            chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', options)
            fields[html.unescape(name)] = html.unescape(chosen.group(1)) if chosen else None
        forms.setdefault(action, {}).update(fields)
    return forms


def discover(client, app, ids) -> dict[str, dict[str, str]]:
    """Every POST form reachable from a GET page of the console, by action path."""
    forms: dict[str, dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        for path in paths(rule, ids):
            response = client.get(path)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            for action, fields in post_forms(response.get_data(as_text=True)).items():
                forms.setdefault(action or path, {}).update(fields)
    return forms


def hostile(name: str, value: str):
    return NOT_AN_IMAGE if name in ("logo_file", "file") else value


def variants(fields: dict[str, str | None], value: str, one_by_one: bool) -> list[tuple[str, dict]]:
    """Every field hostile at once; then, if ``one_by_one``, each field alone in an otherwise
    valid form (the first row of repeated rows only). The form's version is left out of the
    valid part, so an earlier save does not turn every later post into an edit conflict."""
    names = [n for n in fields if n != "csrf_token"]
    valid = {n: v for n, v in fields.items() if v is not None and n not in ("csrf_token", "version")}
    out = [("*", {n: hostile(n, value) for n in names})]
    if "action" in names:  # the settings pages' 「プレビュー」 button
        out.append(("* preview", {**out[0][1], "action": "preview"}))
    for name in names if one_by_one else ():
        if not re.search(r"\.[1-9]\d*\.", name):
            out.append((name, {**valid, name: hostile(name, value)}))
    return out


def assert_escaped(response, where: str) -> None:
    if "html" not in response.content_type:  # the audit CSV holds what was typed, as data
        return
    body = response.get_data(as_text=True)
    assert MARKUP not in body, f"{where}: hostile markup came back unescaped"


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_every_console_form_survives_hostile_values(app, staff_client, city_data, slug, kind):
    ids = city_data(slug)
    tenant = city(app, slug)
    admin = staff_client(slug, role="admin")
    forms = discover(admin, app, ids)
    value = HOSTILE[kind]
    rules = sorted(
        (r for r in app.url_map.iter_rules()
         if r.rule.startswith("/admin") and "POST" in r.methods and r.endpoint not in SKIP),
        key=lambda r: (r.endpoint in LAST, LAST.index(r.endpoint) if r.endpoint in LAST else 0, r.rule),
    )
    assert len(rules) >= 20
    token = admin.csrf_token("/admin/account")
    posted = 0
    before = snapshot(app, tenant)
    for rule, path in ((r, p) for r in rules for p in paths(r, ids)):
        fields = forms.get(path)
        for field, data in variants(fields or dict.fromkeys(GENERIC_FIELDS), value, kind in ONE_BY_ONE):
            # Multipart only with a file: the test client spools a large multipart body to an
            # unclosed temporary file.
            multipart = NOT_AN_IMAGE in data.values()
            data = {n: (io.BytesIO(v), "logo.png") if v is NOT_AN_IMAGE else v for n, v in data.items()}
            response = admin.post(path, data={"csrf_token": token, **data},
                                  content_type="multipart/form-data" if multipart else None)
            where = f"{kind} POST {path} ({rule.endpoint}) [{field}]"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            assert_escaped(response, where)
            after = snapshot(app, tenant)
            if response.status_code in (302, 303):
                if fields and rule.endpoint != "admin.logout":  # the flash may quote what was typed
                    assert_escaped(admin.get(response.headers["Location"]), where + " -> redirect")
            elif response.status_code >= 400 or any(m in response.get_data(as_text=True) for m in REFUSED):
                assert after == before, f"{where}: refused ({response.status_code}) but changed data"
            before = after
            posted += 1
    assert posted >= len(rules)
    # Whatever was saved shows escaped wherever it shows (console and the city's own pages).
    again = staff_client(slug, role="admin", email=f"again-{slug}@example.jp")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "GET" in rule.methods and rule.endpoint not in SKIP:
            for path in paths(rule, ids):
                assert_escaped(again.get(path), f"{kind} GET {path}")
    for path in ("/login", "/pages/about", "/pages/privacy", "/pages/terms", "/faq", "/contact"):
        assert_escaped(again.get(path), f"{kind} GET {path}")


def get_forms(client, app, ids) -> dict[str, set[str]]:
    """``{action path: field names}`` of the GET forms (search and filters) of the console pages."""
    forms: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        for path in paths(rule, ids):
            response = client.get(path)
            if "html" not in response.content_type:  # a download (an issued bill PDF) holds no form
                continue
            body = response.get_data(as_text=True)
            for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", body, re.DOTALL):
                if re.search(r'method="post"', attrs, re.IGNORECASE):
                    continue
                action = html.unescape((re.search(r'action="([^"]*)"', attrs) or [None, path])[1]) or path
                names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', inner)
                forms.setdefault(action.split("?")[0], {"page"}).update(map(html.unescape, names))
    return forms


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_every_console_search_survives_hostile_query_strings(app, staff_client, city_data, slug):
    ids = city_data(slug)
    admin = staff_client(slug, role="admin")
    forms = get_forms(admin, app, ids)
    assert {"/admin/members", "/admin/audit", "/admin/inquiries", "/admin/procedures"} <= set(forms)
    for path, names in forms.items():
        for kind, value in HOSTILE.items():
            for query in (dict.fromkeys(names, value), *({name: value} for name in names)):
                response = admin.get(path, query_string=query)
                assert response.status_code < 500, f"{kind} GET {path} {sorted(query)}: {response.status_code}"
                assert_escaped(response, f"{kind} GET {path}")
    # The paged lists without a form of their own.
    for path in ("/admin/imports", "/admin/audit.csv"):
        for value in HOSTILE.values():
            assert admin.get(path, query_string={"page": value}).status_code == 200


def test_control_characters_are_dropped_not_stored(app, staff_client, nayoro):
    """A NUL (which PostgreSQL refuses) in a notice: saved without it, no 500."""
    admin = staff_client("nayoro")
    response = admin.submit("/admin/notices/new", {
        "title": "断水\x00のお知らせ", "body": "本文\x00です\n2行目", "published_at": "2026-04-01T09:00",
    })
    assert response.status_code == 302
    with app.app_context(), tenant_context(nayoro):
        notice = db.session.scalars(select(Notice).order_by(Notice.id.desc())).first()
        assert (notice.title, notice.body) == ("断水のお知らせ", "本文です\n2行目")
    found = admin.get("/admin/members", query_string={"kind": "email", "q": "shimin\x00@example.jp"})
    assert found.status_code == 200
    assert admin.get("/admin/audit", query_string={"actor": "kanri\x00"}).status_code == 200


def test_a_notices_other_languages_drop_control_characters_and_show_escaped(app, staff_client, client_for,
                                                                           make_member, nayoro):
    """Markup and a NUL in the English and やさしい日本語 texts: stored without the NUL, shown as text."""
    admin = staff_client("nayoro")
    response = admin.submit("/admin/notices/new", {
        "title": "断水のお知らせ", "body": "本文", "published_at": "2026-04-01T09:00",
        "title_en": f"Outage\x00 {MARKUP}", "body_en": f"Body\x00 {MARKUP}\r\nline 2",
        "title_easy": "みず\x00", "body_easy": "でません\x00",
    })
    assert response.status_code == 302
    with app.app_context(), tenant_context(nayoro):
        texts = db.session.execute(select(NoticeText.notice_id, NoticeText.language, NoticeText.title, NoticeText.body)
                                   .order_by(NoticeText.language)).all()
    notice_id = texts[0].notice_id
    assert [tuple(t) for t in texts] == [(notice_id, "easy", "みず", "でません"),
                                         (notice_id, "en", f"Outage {MARKUP}", f"Body {MARKUP}\nline 2")]
    assert_escaped(admin.get("/admin/notices"), "console list")
    edit = admin.get(f"/admin/notices/{notice_id}/edit")
    assert_escaped(edit, "edit form")
    assert "Outage &lt;script&gt;" in edit.get_data(as_text=True)
    make_member(nayoro, email="en@example.jp", login_id="en-reader")
    reader = client_for("nayoro")
    identifier = "en@example.jp" if nayoro.login_mode == "email" else "en-reader"
    assert reader.submit("/login", {"identifier": identifier, "password": "Passw0rd!x"}).status_code == 302
    reader.set_cookie("lang", "en", domain=reader.host)
    page = reader.get("/mypage")
    assert_escaped(page, "English dashboard")
    assert "Outage &lt;script&gt;" in page.get_data(as_text=True)


@pytest.mark.parametrize("logo", ["長" * 300, "nai\x00.png"])
def test_an_impossible_logo_name_is_refused_next_to_its_field(staff_client, logo):
    admin = staff_client("nayoro")
    page = admin.get("/admin/settings/branding").get_data(as_text=True)
    fields = {n: v for n, v in post_forms(page)["/admin/settings/branding"].items() if v is not None}
    response = admin.post("/admin/settings/branding", data={**fields, "branding.logo": logo})
    assert response.status_code == 200
    assert "ロゴ画像が見つかりません。" in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["kanri\x00@example.jp", "kanri@example.jp\x00"])
def test_a_staff_login_with_a_nul_is_a_failed_login(client_for, make_staff, nayoro, email):
    """Credentials are compared as typed (as in the vendor console): no 500 on PostgreSQL, no login."""
    make_staff(nayoro, email="kanri@example.jp")
    response = client_for("nayoro").submit("/admin/login", {"email": email, "password": "Josui-Pump-2026!"})
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません。" in response.get_data(as_text=True)
