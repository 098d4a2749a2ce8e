"""Every citizen route, walked by a member of each city with the other city's ids.

Both cities hold the same customer number, the same member email and login ID, and mirror-image data
(contract, link, bill, document, notice, inquiry) with city-specific markers. A member of
one city must never see the other city's markers on any page, and no POST made with the
other city's ids may change the other city's rows. A new route with an argument this walk
does not know fails ``test_the_walk_covers_every_route`` until it is added here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from waterportal.accounts.models import Member
from waterportal.accounts.services import UNLOCK
from waterportal.accounts.tokens import LOGIN_RECOVERY, PASSWORD_RESET, make_token
from waterportal.alerts.models import AreaAlert, AreaAlertArea
from waterportal.billing.certificates import issue_certificate
from waterportal.billing.issuing import issue_bill
from waterportal.billing.models import Bill, Document, PaymentCertificate
from waterportal.contracts.models import Contract, MemberContract
from waterportal.core.auth import unlock
from waterportal.extensions import db
from waterportal.inquiries.models import Inquiry
from waterportal.notices.models import Notice
from waterportal.procedures.models import ProcedureAttachment, ProcedureEvent, ProcedureRequest
from waterportal.readings.models import MeterReading, Watch
from waterportal.tenancy.context import tenant_context

SHARED_NUMBER = "00012345678"
RECEIPT = "R2026-000001"
EMAIL = "taro@example.jp"
PASSWORD = "Passw0rd!x"
# Routes another test owns: /admin (tests/admin cross-city walk), /vendor (vendor tests),
# host-independent health and theme files.
OWNED_ELSEWHERE = ("/admin", "/vendor", "/healthz", "/_theme/")

CITY_DATA = {
    "nayoro": {"holder": "名寄 太郎", "address": "名寄市風連町西町196", "total": 5509, "notice": "名寄の断水のお知らせ",
               "inquiry": "名寄の問い合わせ件名", "document": "名寄の通知書", "alert": "名寄の配水管工事"},
    "kanazawa": {"holder": "金沢 花子", "address": "金沢市広坂1丁目", "total": 8888, "notice": "金沢の断水のお知らせ",
                 "inquiry": "金沢の問い合わせ件名", "document": "金沢の通知書", "alert": "金沢の配水管工事"},
}


# 見守り's family address (issue 14 §6): shown on the member's own settings only.
FAMILY = {"nayoro": "family-nayoro@example.jp", "kanazawa": "family-kanazawa@example.jp"}


LOGO_LABEL = {"nayoro": 'aria-label="名寄市"', "kanazawa": 'aria-label="金沢市企業局"'}


def markers(slug: str) -> list[str]:
    data = CITY_DATA[slug]
    return [
        data["holder"], data["address"], f"{data['total']:,}", data["notice"], data["inquiry"], data["document"],
        data["alert"], LOGO_LABEL[slug],
    ]


@pytest.fixture(autouse=True)
def daytime():
    """Inside Kanazawa's service hours whenever the suite runs."""
    with time_machine.travel(dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        yield


@pytest.fixture
def world(app, nayoro, kanazawa, make_contract, make_member):
    """Mirror-image data in both cities; returns ids and tokens per city slug."""
    ids = {}
    for city in (nayoro, kanazawa):
        data = CITY_DATA[city.slug]
        contract_id = make_contract(city, customer_number=SHARED_NUMBER, holder_name=data["holder"], address=data["address"])
        member_id = make_member(  # the same email and login ID in both (Nayoro logs in by email)
            city, email=EMAIL, login_id="taro01", data_visible_from=dt.date(2020, 1, 1),
        )
        with app.app_context(), tenant_context(city):
            link = MemberContract(member_id=member_id, contract_id=contract_id, label="自宅")
            bill = Bill(
                contract_id=contract_id, billing_month="2026-10", period_start=dt.date(2026, 9, 1),
                period_end=dt.date(2026, 9, 30), reading_date=dt.date(2026, 10, 1), previous_reading=100,
                current_reading=120, usage_m3=20, water_charge=data["total"] - 2000, sewer_charge=2000,
                tax=data["total"] // 11, total=data["total"], due_date=dt.date(2026, 10, 31),
            )
            payload = f"%PDF-1.4 {city.slug}".encode()
            document = Document(
                contract_id=contract_id, title=data["document"], issued_on=dt.date(2026, 10, 1), filename="notice.pdf",
                content_type="application/pdf", size=len(payload), sha256=hashlib.sha256(payload).hexdigest(), data=payload,
            )
            notice = Notice(title=data["notice"], body="本文", published_at=dt.datetime(2026, 1, 1))
            inquiry = Inquiry(member_id=member_id, name="水道太郎", email=EMAIL, category="その他",
                              subject=data["inquiry"], body="本文")
            # The same 受付番号 in both cities, each with a file of its own.
            procedure = ProcedureRequest(
                kind="leak_reduction", receipt_number=RECEIPT, member_id=member_id, contract_id=contract_id,
                customer_number=SHARED_NUMBER, applicant_email=EMAIL, payload={"repairer_name": data["holder"]},
                fingerprint=city.slug.ljust(64, "0"),
            )
            db.session.add_all([link, bill, document, notice, inquiry, procedure])
            db.session.flush()
            # Daily readings (the 30-day graph) and a verified 見守り of the contract.
            db.session.add_all([MeterReading(contract_id=contract_id, reading_date=dt.date(2026, 11, day), usage_litres=100 + day)
                                for day in range(10, 18)])
            db.session.add(Watch(member_id=member_id, contract_id=contract_id, email=FAMILY[city.slug], days=3,
                                 verified_at=dt.datetime(2026, 11, 1)))
            receipt_file = f"%PDF-1.4 {city.slug} leak receipt".encode()
            attachment = ProcedureAttachment(
                request_id=procedure.id, filename="receipt.pdf", content_type="application/pdf", size=len(receipt_file),
                sha256=hashlib.sha256(receipt_file).hexdigest(), data=receipt_file,
            )
            db.session.add_all([attachment, ProcedureEvent(request_id=procedure.id, status="received",
                                                           actor_kind="applicant", actor_id=member_id)])
            # An area alert on the contract's street, shown now: /mypage/alerts/<alert_id>.
            alert = AreaAlert(kind="works", title=data["alert"], body="本文", starts_at=dt.datetime(2026, 11, 1),
                              ends_at=dt.datetime(2026, 12, 1), created_by="staff:1")
            db.session.add(alert)
            db.session.flush()
            db.session.add(AreaAlertArea(alert_id=alert.id, area=db.session.get(Contract, contract_id).address_area))
            # The bill's issued PDF (billing.issuing), as the worker makes it: /mypage/bill-documents/<issued_id>.
            issued = issue_bill(city, bill, db.session.get(Contract, contract_id), dt.datetime(2026, 11, 1, 1, 0))
            # The bill paid and its 収納済証明書 issued (billing.certificates): /mypage/certificates/<id>.
            bill.paid_on = dt.date(2026, 10, 31)
            certificate = issue_certificate(city, member_id, db.session.get(Contract, contract_id), "2026-10",
                                            "2026-10", dt.datetime(2026, 11, 2, 1, 0))
            db.session.commit()
            member = db.session.get(Member, member_id)
            unlock_token = unlock.issue(UNLOCK, member)
            db.session.commit()
            ids[city.slug] = {
                "bill_id": bill.id, "document_id": document.id, "link_id": link.id,
                "token": make_token(city, member, PASSWORD_RESET), "recovery_token": make_token(city, member, LOGIN_RECOVERY),
                "filename": "logo.svg", "name": "about", "unlock_token": unlock_token,
                "kind": "leak_reduction", "receipt_number": RECEIPT, "attachment_id": attachment.id,
                "issued_id": issued.id, "certificate_id": certificate.id, "alert_id": alert.id,
                "contract_id": contract_id,  # /mypage/bills/history/<contract_id>.csv
            }
    return ids


def argument_values(rule, own: dict, other: dict) -> list[dict]:
    """URL argument sets for ``rule``: the member's own ids and the other city's ids."""
    if not rule.arguments:
        return [{}]
    if rule.endpoint == "accounts.recover_account":
        return [{"token": own["recovery_token"]}, {"token": other["recovery_token"]}]
    if rule.endpoint == "accounts.unlock_login":
        return [{"token": own["unlock_token"]}, {"token": other["unlock_token"]}]
    if rule.endpoint == "theme_assets.tenant_asset":
        return [{"filename": "logo.svg"}, {"filename": "../kanazawa/assets/logo.svg"}, {"filename": "../nayoro/assets/logo.svg"}]
    return [{k: own[k] for k in rule.arguments}, {k: other[k] for k in rule.arguments}]


def citizen_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if not r.rule.startswith(OWNED_ELSEWHERE)), key=lambda r: r.rule
    )


def url_for_rule(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_the_walk_covers_every_route(app, world):
    known = set(world["nayoro"]) | {"theme"}
    unknown = [r.rule for r in citizen_rules(app) if set(r.arguments) - known]
    assert unknown == [], f"add these routes' arguments to the cross-city walk: {unknown}"


def log_in(client_for, slug: str):
    client = client_for(slug)
    identifier = "taro01" if slug == "kanazawa" else EMAIL
    response = client.submit("/login", {"identifier": identifier, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.mark.parametrize("slug, other", [("nayoro", "kanazawa"), ("kanazawa", "nayoro")])
def test_no_page_shows_the_other_citys_data(app, world, client_for, slug, other):
    """Also: every page a member sees is ``no-store`` (issue 9 #6), walked over the route map."""
    client = log_in(client_for, slug)
    seen_own = own_files = 0
    for rule in citizen_rules(app):
        if "GET" not in rule.methods:
            continue
        for values in argument_values(rule, world[slug], world[other]):
            url = url_for_rule(rule, values)
            with client.get(url) as response:
                body = response.get_data()
            assert response.status_code < 500, url
            if response.status_code == 200 and rule.endpoint.split(".")[0] != "theme_assets":
                # Every page a logged-in member gets stays out of caches (the pipeline's rule).
                assert response.headers.get("Cache-Control") == "no-store", f"{url} can be cached"
            text = body.decode("utf-8", "replace")
            leaked = [m for m in [*markers(other), FAMILY[other]] if m in text]
            assert not leaked, f"{slug} member saw {other}'s {leaked} at {url}"
            assert f"%PDF-1.4 {other}".encode() not in body, url
            own_files += body == f"%PDF-1.4 {slug} leak receipt".encode()
            if any(m in text for m in markers(slug)):
                seen_own += 1
    # The walk really reached the member's pages (dashboard, bills, documents, notices...).
    assert seen_own >= 5
    assert own_files == 1  # the member's own attachment, once: the other city's id gave none


def snapshot(app, city) -> dict:
    """Every row of the city's member-facing tables, as comparable tuples."""
    with app.app_context(), tenant_context(city):
        tables = {}
        for model in (Member, MemberContract, Contract, Bill, Document, Notice, Inquiry, ProcedureRequest,
                      ProcedureEvent, ProcedureAttachment, PaymentCertificate, MeterReading, Watch):
            columns = [c for c in model.__table__.columns if c.name != "data"]
            rows = db.session.execute(select(*[getattr(model, c.key) for c in columns]).order_by(model.id)).all()
            tables[model.__tablename__] = [tuple(row) for row in rows]
        return tables


@pytest.mark.parametrize("slug, other", [("nayoro", "kanazawa"), ("kanazawa", "nayoro")])
def test_posts_with_the_other_citys_ids_change_nothing_there(app, world, client_for, nayoro, kanazawa, slug, other):
    other_city = {"nayoro": nayoro, "kanazawa": kanazawa}[other]
    before = snapshot(app, other_city)
    posted = 0
    for rule in citizen_rules(app):
        if "POST" not in rule.methods:
            continue
        for values in argument_values(rule, world[other], world[other]):
            client = log_in(client_for, slug)  # fresh each time: some posts log out or withdraw
            token = client.csrf_token("/mypage/profile/nickname")
            data = {
                "csrf_token": token, "password": PASSWORD, "current_password": PASSWORD, "label": "乗っ取り",
                "nickname": "乗っ取り", "contract_id": world[other]["link_id"], "email": "x@example.jp",
                "customer_number": SHARED_NUMBER, "subject": "x", "body": "x", "name": "x", "category": "その他",
            }
            response = client.post(url_for_rule(rule, values), data=data)
            assert response.status_code < 500, rule.rule
            posted += 1
    assert posted >= 15
    assert snapshot(app, other_city) == before
