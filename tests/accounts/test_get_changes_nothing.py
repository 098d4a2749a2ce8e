"""No state change on GET: a logged-in member of each city walks every citizen GET route
(with real ids of their own bill, document, contract link, reset and recovery tokens) and
not one row of any table changes.

Every state change in the portal is a POST with a CSRF token; a GET that wrote (a link
consumed by a mail scanner's prefetch, a pixel that logs out, a token burnt by a
preview) would break that. The walk takes the routes from the URL map, so a new GET
route is walked without anyone remembering to add it; a route with an argument the walk
does not know fails ``test_the_walk_knows_every_argument``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.accounts.tokens import LOGIN_RECOVERY, PASSWORD_RESET, make_token
from waterportal.alerts.models import AreaAlert, AreaAlertArea
from waterportal.billing.models import Bill, BillDocument, Document, PaymentCertificate
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.inquiries.models import Inquiry
from waterportal.notices.models import Notice
from waterportal.procedures.models import ProcedureAttachment, ProcedureRequest
from waterportal.tenancy.context import tenant_context

PASSWORD = "Passw0rd!x"
EMAIL = "walker@example.jp"
# The staff and vendor consoles have their own walks ((tests/admin, tests/vendor_console)).
OTHER_CONSOLES = ("/admin", "/vendor")


@pytest.fixture
def own_data(app, nayoro, kanazawa, make_contract, make_member):
    """A member with a contract, a bill and its issued PDF, a document, a 収納済証明書, a notice,
    an inquiry and a procedure request with a file in each city."""
    ids = {}
    for city in (nayoro, kanazawa):
        contract_id = make_contract(city)
        extra = {"login_id": "walker01", "secret_question": "母親の旧姓は?"} if city.login_mode == "login_id" else {}
        member_id = make_member(city, email=EMAIL, data_visible_from=dt.date(2020, 1, 1), **extra)
        with app.app_context(), tenant_context(city):
            payload = b"%PDF-1.4 walk"
            link = MemberContract(member_id=member_id, contract_id=contract_id, label="自宅")
            bill = Bill(
                contract_id=contract_id, billing_month="2026-10", period_start=dt.date(2026, 9, 1),
                period_end=dt.date(2026, 9, 30), reading_date=dt.date(2026, 10, 1), previous_reading=100,
                current_reading=120, usage_m3=20, water_charge=3500, sewer_charge=2000, tax=500, total=5500,
                due_date=dt.date(2026, 10, 31),
            )
            document = Document(
                contract_id=contract_id, title="通知書", issued_on=dt.date(2026, 10, 1), filename="notice.pdf",
                content_type="application/pdf", size=len(payload), sha256=hashlib.sha256(payload).hexdigest(),
                data=payload,
            )
            notice = Notice(title="断水のお知らせ", body="本文", published_at=dt.datetime(2026, 1, 1))
            inquiry = Inquiry(member_id=member_id, name="水道太郎", email=EMAIL, category="その他", subject="件名", body="本文")
            db.session.add_all([link, bill, document, notice, inquiry])
            db.session.flush()
            stored = {"filename": "walk.pdf", "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
                      "data": payload}
            now = dt.datetime(2026, 11, 1)
            issued = BillDocument(bill_id=bill.id, contract_id=contract_id, version=1, billing_month="2026-10",
                                  total=5500, issuers=city.name, issued_on=now.date(), issued_at=now,
                                  source_updated_at=bill.updated_at, superseded_at=None, **stored)
            certificate = PaymentCertificate(contract_id=contract_id, month_from="2026-10", month_to="2026-10",
                                             bills=1, total=5500, issued_on=now.date(), issued_at=now, **stored)
            request = ProcedureRequest(kind="move_out", receipt_number="R2026-000001", member_id=member_id,
                                       contract_id=contract_id, applicant_email=EMAIL, fingerprint="walk")
            db.session.add_all([issued, certificate, request])
            db.session.flush()
            attachment = ProcedureAttachment(request_id=request.id, content_type="application/pdf", **stored)
            # An area alert on the contract's street, shown now: /mypage/alerts/<alert_id>.
            alert = AreaAlert(kind="works", title="配水管工事", body="本文", starts_at=dt.datetime(2026, 11, 1),
                              ends_at=dt.datetime(2026, 12, 1), created_by="staff:1")
            db.session.add_all([attachment, alert])
            db.session.flush()
            db.session.add(AreaAlertArea(alert_id=alert.id, area=db.session.get(Contract, contract_id).address_area))
            db.session.commit()
            member = db.session.get(Member, member_id)
            ids[city.slug] = {
                "issued_id": issued.id, "certificate_id": certificate.id, "alert_id": alert.id, "receipt_number": request.receipt_number,
                "attachment_id": attachment.id, "kind": "move_out",
                "bill_id": bill.id, "document_id": document.id, "link_id": link.id,
                "token": make_token(city, member, PASSWORD_RESET),
                "recovery_token": make_token(city, member, LOGIN_RECOVERY),
                "filename": "logo.svg", "name": "terms", "theme": "default",
                "contract_id": contract_id,  # /mypage/bills/history/<contract_id>.csv
            }
    return ids


def get_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith(OTHER_CONSOLES)),
        key=lambda r: r.rule,
    )


def url_of(rule, values: dict) -> str:
    if rule.endpoint == "accounts.recover_account":
        values = {**values, "token": values["recovery_token"]}
    if rule.endpoint == "theme_assets.static":
        values = {**values, "filename": "portal.css"}
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def every_row(app) -> dict[str, list[tuple]]:
    """Every row of every table (all cities), in a stable order.

    An audit line recording that a file was downloaded (a 収納済証明書 is audited when
    read) is a record of the read, not a state change: it is left out."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns).execution_options(all_tenants=True)
            if table.name == "audit_log":
                query = query.where(~table.c.action.like("%.downloaded"))
            tables[table.name] = [tuple(row) for row in db.session.execute(query)]
        return tables


def test_the_walk_knows_every_argument(app, own_data):
    known = set(own_data["nayoro"])
    unknown = [r.rule for r in get_rules(app) if set(r.arguments) - known]
    assert unknown == [], f"teach the GET walk these routes' arguments: {unknown}"


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_no_get_route_changes_any_row(app, own_data, client_for, login, clock, slug):
    client = client_for(slug)
    assert login(client, "walker01" if slug == "kanazawa" else EMAIL).status_code == 302
    before = every_row(app)
    assert before["members"] and before["member_sessions"] and before["bills"]  # the walk has something to change
    answered = []
    for rule in get_rules(app):
        url = url_of(rule, own_data[slug])
        with client.get(url) as response:
            assert response.status_code < 500, url
            if response.status_code == 200:
                answered.append(url)
        after = every_row(app)
        changed = [name for name in before if after[name] != before[name]]
        assert changed == [], f"GET {url} changed {changed}"
    # The walk really reached the member's own pages and the token pages.
    for url in ("/mypage", "/mypage/bills", f"/mypage/bills/{own_data[slug]['bill_id']}", "/mypage/profile/password"):
        assert url in answered, url
    assert client.get("/mypage").status_code == 200  # still logged in: no GET logged the member out


def post_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith(OTHER_CONSOLES)),
        key=lambda r: r.rule,
    )


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_every_post_without_the_csrf_token_is_refused_and_changes_nothing(app, own_data, client_for, login, clock, slug):
    client = client_for(slug)
    assert login(client, "walker01" if slug == "kanazawa" else EMAIL).status_code == 302
    before = every_row(app)
    data = {"password": PASSWORD, "current_password": PASSWORD, "nickname": "変更", "email": "x@example.jp",
            "label": "変更", "subject": "x", "body": "x", "name": "x", "category": "その他", "code": "123456"}
    posted = []
    for rule in post_rules(app):
        url = url_of(rule, own_data[slug])
        response = client.post(url, data=data)
        assert response.status_code == 400, f"POST {url} without a CSRF token answered {response.status_code}"
        posted.append(url)
    assert every_row(app) == before
    assert {"/login", "/logout", "/register/", "/mypage/withdraw", "/password/forgot"} <= set(posted)
    assert client.get("/mypage").status_code == 200


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_every_form_on_every_page_carries_a_csrf_token(app, own_data, client_for, login, clock, slug):
    """Forms posting back here carry the token (a logged-out visitor's pages and a member's)."""
    visitor, member = client_for(slug), client_for(slug)
    assert login(member, "walker01" if slug == "kanazawa" else EMAIL).status_code == 302
    forms_seen = 0
    for client in (visitor, member):
        for rule in get_rules(app):
            url = url_of(rule, own_data[slug])
            with client.get(url) as response:
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                body = response.get_data(as_text=True)
            for form in re.findall(r"<form\b[^>]*>.*?</form>", body, flags=re.S | re.I):
                if re.search(r'method="post"', form, flags=re.I):
                    forms_seen += 1
                    assert 'name="csrf_token"' in form, f"{url}: {form[:200]}"
    assert forms_seen >= 15
