"""Helpers for the registration tests: walk the real forms step by step, read the codes
and mails the app queued (OutboxMessage rows) and the rows it wrote."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import tenant_context

PASSWORDS = {"nayoro": "Suido#2026ab", "kanazawa": "kanazawa2026x"}
# The phone numbers the tests' contracts carry in each city.
PHONES = {"nayoro": "0165432111", "kanazawa": "0762202111"}
CODE_IN_MAIL = re.compile(r"認証コード: (\d{6})")


def mails(app, tenant, to: str | None = None, kind: str | None = None) -> list[dict]:
    """The city's outbox rows, oldest first, as dicts."""
    with app.app_context(), tenant_context(tenant):
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.where(OutboxMessage.to_address == to)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return [
            {"to": m.to_address, "subject": m.subject, "body": m.body, "kind": m.kind, "sender": m.sender}
            for m in db.session.scalars(query)
        ]


def latest_code(app, tenant, email: str) -> str:
    """The code in the newest verification mail to ``email``."""
    found = mails(app, tenant, to=email, kind="verification_code")
    assert found, f"no verification mail to {email}"
    match = CODE_IN_MAIL.search(found[-1]["body"])
    assert match, found[-1]["body"]
    return match.group(1)


def count_rows(app, tenant, model) -> int:
    """Rows of a tenant-scoped model in ``tenant``."""
    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(select(func.count()).select_from(model))


def details_data(tenant, number: str, **overrides) -> dict:
    """Valid 2/4 form data for the contract with customer number ``number`` in ``tenant``."""
    password = PASSWORDS[tenant.slug]
    data = {
        "nickname": "水道太郎",
        "password": password,
        "password_confirm": password,
        "customer_number": number,
        "phone": PHONES[tenant.slug],
        "holder_kana": "スイドウタロウ",
        "agree_terms": "y",
        "agree_privacy": "y",
        "relationship": "本人",
        "payment_method": "アプリ決済に切り替えない",
    }
    if tenant.login_mode == "login_id":
        data.update(login_id="taro_suido", secret_question="好きな食べ物は?", secret_answer="かれーらいす")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return response.get_data(as_text=True)


class Registration:
    """One browser going through the steps in one city."""

    def __init__(self, app, client, tenant):
        self.app, self.client, self.tenant = app, client, tenant

    def send_code(self, email: str):
        return self.client.submit("/register/", {"email": email})

    def enter_code(self, code: str):
        return self.client.submit("/register/verify", {"code": code})

    def verify(self, email: str) -> None:
        """Steps 1/4 through to a verified address."""
        sent = self.send_code(email)
        assert sent.status_code == 302 and sent.location.endswith("/register/verify"), page(sent)
        entered = self.enter_code(latest_code(self.app, self.tenant, email))
        assert entered.status_code == 302 and entered.location.endswith("/register/details"), page(entered)

    def fill_details(self, number: str, **overrides):
        return self.client.submit("/register/details", details_data(self.tenant, number, **overrides))

    def confirm(self, form_page: str | None = None):
        """Press 登録 (the token comes from ``form_page`` when 3/4 itself redirects)."""
        return self.client.submit("/register/confirm", {}, form_page=form_page)

    def complete(self, email: str, customer_number: str, **overrides):
        """All four steps; returns the 4/4 page."""
        self.verify(email)
        filled = self.fill_details(customer_number, **overrides)
        assert filled.status_code == 302 and filled.location.endswith("/register/confirm"), page(filled)
        done = self.confirm()
        assert done.status_code == 302 and done.location.endswith("/register/done"), page(done)
        return self.client.get("/register/done")
