"""「支払方法」 at registration: a new member who picks 口座振替 is led from the last page to
the 口座振替 application, for the registered contract, with 口座振替 already chosen."""
from __future__ import annotations

import html
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.conftest import city
from tests.registration_support import PASSWORDS, Registration, page
from waterportal.accounts.registration import views as registration_views
from waterportal.procedures.catalog import payment_method

NUMBERS = {"nayoro": "00123456789", "kanazawa": "0012345678"}
PHONES = {"nayoro": "0165432111", "kanazawa": "0762202111"}
DEBIT_CHOICE = "口座振替に切り替える"


def test_registration_names_the_procedure_as_the_catalog_does():
    assert registration_views.DEBIT_KIND == payment_method.KEY
    assert registration_views.DEBIT_METHOD == payment_method.DEBIT


@pytest.fixture
def register(app, client_for, make_contract):
    def walk(slug: str, choice: str):
        tenant = city(app, slug)
        make_contract(tenant, customer_number=NUMBERS[slug], phone=PHONES[slug], holder_name_kana="スイドウタロウ")
        reg = Registration(app, client_for(slug), tenant)
        return reg, reg.complete("taro@example.jp", NUMBERS[slug], payment_method=choice)

    return walk


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_choosing_debit_leads_to_the_application(register, slug):
    reg, done = register(slug, DEBIT_CHOICE)
    body = html.unescape(page(done))
    assert "口座振替のお申込み" in body and f"支払方法に「{DEBIT_CHOICE}」を選ばれました" in body
    link = next(part.split('"')[0] for part in body.split('href="')[1:] if part.startswith("/login"))
    target = unquote(parse_qs(urlsplit(link).query)["next"][0])
    assert target.startswith("/procedures/new/payment_method?")
    query = parse_qs(urlsplit(target).query)
    assert query["method"] == [payment_method.DEBIT]
    identifier = "taro_suido" if reg.tenant.login_mode == "login_id" else "taro@example.jp"
    login = reg.client.submit(link, {"identifier": identifier, "password": PASSWORDS[slug]})
    assert login.status_code == 302 and unquote(login.location).endswith(target)
    form = html.unescape(page(reg.client.get(login.location)))
    assert f'value="{payment_method.DEBIT}" checked' in form
    contract_id = query["contract_id"][0]
    assert f'<option value="{contract_id}" selected>' in form


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_other_choices_show_no_application(register, slug):
    _, done = register(slug, "アプリ決済に切り替えない")
    assert "口座振替のお申込み" not in page(done)


def test_a_city_without_online_debit_shows_no_application(app, register, monkeypatch):
    from tests.procedures.kinds_support import with_kinds

    nayoro = city(app, "nayoro")
    closed = with_kinds(nayoro, "holder_change")
    monkeypatch.setattr(registration_views, "current_tenant", lambda: closed)
    _, done = register("nayoro", DEBIT_CHOICE)
    assert "口座振替のお申込み" not in page(done)
