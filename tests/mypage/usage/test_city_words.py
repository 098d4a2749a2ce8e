"""Issue 13 #7: one name for the customer number per city (its settings), on pages and in mail."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.mypage.usage.conftest import history_rows
from waterportal.mail.services import render_mail
from waterportal.tenancy.context import tenant_context


@pytest.mark.parametrize("slug, word, other", [("nayoro", "お客様番号", "お客さま番号"),
                                               ("kanazawa", "お客さま番号", "お客様番号")])
def test_each_city_shows_its_own_word_on_pages_and_in_mail(slug, word, other, request, client_for, customer, login,
                                                         clock, app):
    tenant = request.getfixturevalue(slug)
    number = "00012345682" if slug == "nayoro" else "0100012345"
    customer(tenant, [number], bills=history_rows(number, 2, newest="2026-09", step=1))
    client = client_for(slug)
    login(client, tenant)
    for path in ("/mypage", "/mypage/contracts", "/mypage/profile", "/register/help", "/faq"):
        body = client.get(path).get_data(as_text=True)
        assert other not in body, path
    assert word in client.get("/mypage").get_data(as_text=True)
    bill = SimpleNamespace(period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 9, 20), usage_m3=20,
                           total=3000, due_date=dt.date(2026, 9, 28))
    with app.test_request_context(), tenant_context(tenant):
        subject, body = render_mail(tenant, "bill_ready", nickname="花子", month="2026年09月", label="",
                                    contract=SimpleNamespace(customer_number=number), bill=bill)
    assert f"{word}: 末尾" in body and other not in body + subject
