"""Registration across steps and cities: order, GET safety, CSRF, expiry, host-only drafts,
business-day dates, and two cities sharing an email address and a customer number."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.clock import JST
from tests.registration_support import (
    Registration,
    count_rows,
    latest_code,
    mails,
    page,
)
from waterportal.accounts.models import Member, VerificationCode
from waterportal.accounts.registration.models import RegistrationDraft
from waterportal.accounts.registration.services import (
    RegistrationRefused,
    data_visible_date,
    format_date_ja,
    register_member,
)
from waterportal.contracts.models import Contract, MemberContract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

EMAIL = "taro@example.jp"




def test_steps_cannot_be_skipped(app, reg, nayoro, contract):
    expired = "登録の有効期限が切れました。お手数ですが、メールアドレスの登録からやり直してください。"
    for path in ("/register/verify", "/register/details", "/register/confirm"):
        response = reg.client.get(path)
        assert response.status_code == 302 and response.location.endswith("/register/"), path
    assert expired in page(reg.client.get("/register/"))
    assert reg.client.get("/register/done").location.endswith("/register/")

    reg.send_code(EMAIL)  # a draft, but the address is not verified yet
    for path in ("/register/details", "/register/confirm"):
        assert reg.client.get(path).location.endswith("/register/verify"), path
    assert "先にメールアドレスの確認(認証コードの入力)を行ってください。" in page(reg.client.get("/register/verify"))
    refused = reg.client.submit("/register/details", {"nickname": "x"}, form_page="/register/verify")
    assert refused.location.endswith("/register/verify")

    reg.enter_code(latest_code(app, nayoro, EMAIL))
    assert reg.client.get("/register/confirm").location.endswith("/register/details")
    assert reg.confirm(form_page="/register/").location.endswith("/register/details")
    assert count_rows(app, nayoro, Member) == 0


def test_reloading_each_step_changes_nothing(app, reg, nayoro, contract):
    for path in ("/register/", "/register/help", "/register/verify", "/register/details", "/register/done"):
        reg.client.get(path)
    assert count_rows(app, nayoro, RegistrationDraft) == 0
    reg.verify(EMAIL)
    reg.fill_details(contract)
    before = (count_rows(app, nayoro, VerificationCode), len(mails(app, nayoro)))
    for _ in range(2):
        for path in ("/register/", "/register/verify", "/register/details", "/register/confirm", "/register/help"):
            assert reg.client.get(path).status_code in (200, 302), path
    assert (count_rows(app, nayoro, VerificationCode), len(mails(app, nayoro))) == before
    assert count_rows(app, nayoro, Member) == 0
    assert '<button type="submit">登録</button>' in page(reg.client.get("/register/confirm"))


def test_every_post_needs_the_csrf_token(app, reg, nayoro):
    for path in ("/register/", "/register/verify", "/register/resend", "/register/details",
                 "/register/confirm", "/register/cancel"):
        assert reg.client.post(path, data={"email": EMAIL}).status_code == 400, path
    assert mails(app, nayoro) == []


def test_a_draft_expires_after_an_hour_idle(app, reg, nayoro, clock, contract):
    reg.verify(EMAIL)
    clock.shift(minutes=59)
    assert reg.client.get("/register/details").status_code == 200
    reg.fill_details(contract)  # a step renews the hour
    clock.shift(minutes=59)
    assert reg.client.get("/register/confirm").status_code == 200
    clock.shift(minutes=2)
    assert reg.client.get("/register/confirm").location.endswith("/register/")
    assert reg.confirm(form_page="/register/").location.endswith("/register/")
    reg.send_code("other@example.jp")  # starting again purges the expired draft
    assert count_rows(app, nayoro, RegistrationDraft) == 1
    assert count_rows(app, nayoro, Member) == 0


def test_a_draft_is_useless_in_the_other_city(app, client_for, nayoro, kanazawa, clock):
    ours = Registration(app, client_for("nayoro"), nayoro)
    ours.verify(EMAIL)
    cookie = ours.client.get_cookie("session", domain="nayoro.localhost")
    assert cookie is not None
    thief = client_for("kanazawa")
    thief.set_cookie("session", cookie.value, domain="kanazawa.localhost")
    response = thief.get("/register/details")
    assert response.status_code == 302 and response.location.endswith("/register/")
    # The cookie is host-only: a Kanazawa client never sends Nayoro's.
    assert ours.client.get_cookie("session", domain="kanazawa.localhost") is None


def test_finishing_twice_registers_once(app, reg, nayoro, contract):
    reg.complete(EMAIL, contract)
    again = reg.confirm(form_page="/register/")
    assert again.status_code == 302 and again.location.endswith("/register/done")
    assert count_rows(app, nayoro, Member) == 1
    assert len(mails(app, nayoro, kind="welcome")) == 1


def test_a_race_for_the_same_address_registers_once(app, client_for, nayoro, contract, clock):
    first, second = Registration(app, client_for("nayoro"), nayoro), Registration(app, client_for("nayoro"), nayoro)
    first.verify("new@example.jp")
    clock.shift(seconds=61)
    second.verify("new@example.jp")
    first.fill_details(contract)
    second.fill_details(contract)
    assert first.confirm().location.endswith("/register/done")
    lost = second.confirm()
    assert lost.status_code == 409
    assert "このメールアドレスは既に登録されています。" in page(lost)
    assert count_rows(app, nayoro, Member) == 1


# --- the date usage becomes visible ------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "moment", "expected"),
    [
        ("nayoro", dt.datetime(2026, 6, 12, 10, 0, tzinfo=JST), dt.date(2026, 6, 15)),  # Fri -> Mon
        ("nayoro", dt.datetime(2026, 7, 17, 10, 0, tzinfo=JST), dt.date(2026, 7, 21)),  # Mon 07-20 is 海の日
        ("nayoro", dt.datetime(2026, 12, 28, 10, 0, tzinfo=JST), dt.date(2027, 1, 4)),  # closure 12-29..01-03
        ("kanazawa", dt.datetime(2026, 12, 28, 10, 0, tzinfo=JST), dt.date(2027, 1, 5)),  # 2 business days
        ("kanazawa", dt.datetime(2026, 12, 25, 10, 0, tzinfo=JST), dt.date(2027, 1, 4)),  # Fri, weekend, closure
        # 00:30 on Friday in Japan is still Thursday in UTC: the city's date counts.
        ("nayoro", dt.datetime(2026, 6, 12, 0, 30, tzinfo=JST), dt.date(2026, 6, 15)),
    ],
)
def test_data_visible_date_skips_weekends_holidays_and_closure(app, clock, slug, moment, expected):
    from waterportal.tenancy.registry import get_registry

    clock.move_to(moment)
    with app.app_context():
        assert data_visible_date(get_registry().by_slug(slug)) == expected


def test_japanese_date_format():
    assert format_date_ja(dt.date(2026, 12, 24)) == "2026年12月24日(木)"
    assert format_date_ja(dt.date(2027, 1, 4)) == "2027年1月4日(月)"


def test_registering_before_the_year_end_closure_shows_january(app, reg, nayoro, contract, clock):
    clock.move_to(dt.datetime(2026, 12, 28, 16, 0, tzinfo=JST))
    done = page(reg.complete(EMAIL, contract))
    assert "照会できるようになる日: <strong>2027年1月4日(月)</strong>" in done
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalars(select(Member.data_visible_from)).one() == dt.date(2027, 1, 4)
    [welcome] = mails(app, nayoro, kind="welcome")
    assert "2027年1月4日(月)から" in welcome["body"]


# --- two cities, the same address and the same customer number ------------------------------


def test_both_cities_register_the_same_email_and_number_independently(
    app, client_for, nayoro, kanazawa, make_contract, clock
):
    # The same number, at each city's length (11 and 10 digits); tests/contracts
    # matches the very same string in both cities.
    number_n, number_k = "00000000042", "0000000042"
    make_contract(nayoro, customer_number=number_n)
    make_contract(kanazawa, customer_number=number_k, phone="0762202111")

    done_n = Registration(app, client_for("nayoro"), nayoro).complete(EMAIL, number_n)
    assert "登録処理が完了しました。" in page(done_n)
    # Registering in Nayoro changed nothing in Kanazawa: the address is new there.
    kreg = Registration(app, client_for("kanazawa"), kanazawa)
    kreg.send_code(EMAIL)
    assert [m["kind"] for m in mails(app, kanazawa)] == ["verification_code"]
    kreg.enter_code(latest_code(app, kanazawa, EMAIL))
    assert kreg.fill_details(number_k).location.endswith("/register/confirm")
    assert kreg.confirm().location.endswith("/register/done")

    for city, number in ((nayoro, number_n), (kanazawa, number_k)):
        with app.app_context(), tenant_context(city):
            member = db.session.scalars(select(Member)).one()
            link = db.session.scalars(select(MemberContract)).one()
            contract = db.session.get(Contract, link.contract_id)
            assert member.email == EMAIL and link.member_id == member.id
            assert contract.customer_number == number and contract.tenant_id == city.id
    assert count_rows(app, nayoro, Member) == 1 and count_rows(app, kanazawa, Member) == 1
    assert [m["kind"] for m in mails(app, nayoro)] == ["verification_code", "welcome"]
    assert [m["kind"] for m in mails(app, kanazawa)] == ["verification_code", "welcome"]


def test_a_code_from_one_city_is_refused_in_the_other(app, client_for, nayoro, kanazawa, clock):
    ours, theirs = Registration(app, client_for("nayoro"), nayoro), Registration(app, client_for("kanazawa"), kanazawa)
    ours.send_code(EMAIL)
    theirs.send_code(EMAIL)  # same address: each city throttles and stores its own
    nayoro_code, kanazawa_code = latest_code(app, nayoro, EMAIL), latest_code(app, kanazawa, EMAIL)
    if nayoro_code != kanazawa_code:
        assert "認証コードが正しくありません" in page(theirs.enter_code(nayoro_code))
    assert theirs.enter_code(kanazawa_code).location.endswith("/register/details")
    assert ours.enter_code(nayoro_code).location.endswith("/register/details")


def test_register_member_service_for_staff_and_demo(app, nayoro, make_contract, clock):
    contract_id = make_contract(nayoro, customer_number="00000000077")
    with app.test_request_context(), tenant_context(nayoro):
        member = register_member(
            nayoro, email="Staff@Example.jp", nickname="窓口登録", password="Suido#2026ab", contract_id=contract_id,
            relationship="家族", payment_method="アプリ決済に切り替えない", welcome=False,
        )
        assert member.email == "staff@example.jp" and member.password_hash.startswith("$argon2id$")
        assert member.data_visible_from == dt.date(2026, 11, 19)
        db.session.commit()
        with pytest.raises(RegistrationRefused) as refused:
            register_member(
                nayoro, email="staff@example.jp", nickname="x", password="Suido#2026ab", contract_id=contract_id,
                relationship="本人", payment_method="アプリ決済に切り替えない",
            )
        assert refused.value.field == "email"
    assert count_rows(app, nayoro, Member) == 1
    assert mails(app, nayoro) == []  # welcome=False: no mail


def test_a_failure_in_the_middle_of_registering_leaves_nothing(app, reg, nayoro, contract, monkeypatch):
    """「登録」 writes the member, the contract link, the welcome mail and the audit entry in one
    transaction: when the last write fails (here the audit entry, after the others were
    flushed) the citizen gets the error page, none of them survives, no mail goes out, and the
    same draft registers cleanly once the fault is gone."""
    from waterportal.accounts.registration import services
    from waterportal.audit.models import AuditEntry

    reg.verify(EMAIL)
    assert reg.fill_details(contract).location.endswith("/register/confirm")

    def broken_record(*args, **kwargs):
        raise RuntimeError("the database went away between two statements")

    monkeypatch.setattr(services.audit, "record", broken_record)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # production's 500 handler
    failed = reg.confirm()
    assert failed.status_code == 500
    assert count_rows(app, nayoro, Member) == count_rows(app, nayoro, MemberContract) == 0
    assert mails(app, nayoro, kind="welcome") == []
    assert count_rows(app, nayoro, RegistrationDraft) == 1

    monkeypatch.undo()
    assert reg.confirm().location.endswith("/register/done")
    assert count_rows(app, nayoro, Member) == count_rows(app, nayoro, MemberContract) == 1
    assert len(mails(app, nayoro, kind="welcome")) == 1
    with app.app_context(), tenant_context(nayoro):
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "member.register")).all() == [
            "member.register"
        ]
