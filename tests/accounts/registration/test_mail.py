"""Registration and the mail server: the code survives an outage of the real SMTP server
(aiosmtpd) and arrives, once, when it is back; 4/4 speaks the city's own words."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import MappingProxyType, SimpleNamespace

import pytest

from tests.registration_support import Registration, mails, page
from tests.smtp import body_of, find_code
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.templating import render_page

EMAIL = "taro@example.jp"


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_code_mailed_while_the_server_is_down_arrives_when_it_is_back(
    app, app_ctx, client_for, runner, smtp_server, clock, slug, nayoro, kanazawa
):
    city = {"nayoro": nayoro, "kanazawa": kanazawa}[slug]
    reg = Registration(app, client_for(slug), city)
    smtp_server.stop()

    sent = reg.send_code(EMAIL)
    # The citizen sees the same answer as on a good day; nothing is lost.
    assert sent.status_code == 302 and sent.location.endswith("/register/verify")
    assert f"{EMAIL} 宛に認証コードを送信しました。" in page(reg.client.get("/register/verify"))
    [queued] = mails(app, city, kind="verification_code")
    assert smtp_server.messages == []

    smtp_server.start()
    clock.shift(seconds=30)  # the first retry is due after 30 s
    assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent 1, retrying 0, failed 0"
    assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent 0, retrying 0, failed 0"
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == "認証コードのお知らせ"
    assert body_of(mail).strip() == queued["body"].strip()

    entered = reg.enter_code(find_code(mail))
    assert entered.status_code == 302 and entered.location.endswith("/register/details")
    assert len(smtp_server.messages) == 1  # sent once, not again by a later round


def render_done(app, city, text: str) -> str:
    settings = dict(city.settings)
    settings["texts"] = MappingProxyType({**city.settings["texts"], "registration_done": text})
    member = SimpleNamespace(login_id=None, email=EMAIL)
    with app.test_request_context(headers={"Host": "nayoro.localhost"}), \
            tenant_context(replace(city, settings=MappingProxyType(settings))):
        return render_page("registration/done.html", member=member, visible_from=dt.date(2026, 11, 19), login_url="/login")


def test_done_page_uses_the_citys_words_then_the_date(app, nayoro):
    body = render_done(app, nayoro, "使用量や料金の照会ができるのは1営業日後になります。もうしばらくお待ちください。")
    assert "<p>使用量や料金の照会ができるのは1営業日後になります。もうしばらくお待ちください。</p>" in body
    assert "照会できるようになる日: <strong>2026年11月19日(木)</strong>" in body
    assert body.index("登録処理が完了しました。") < body.index("1営業日後") < body.index("ポータルを利用する")


def test_done_page_without_city_words_states_the_date(app, nayoro):
    body = render_done(app, nayoro, "")
    assert "使用量や料金の照会ができるのは2026年11月19日(木)からです。もうしばらくお待ちください。" in body
    assert "照会できるようになる日" not in body


def test_each_citys_manual_words_on_4_4(app, client_for, nayoro, kanazawa, make_contract, clock):
    from tests.registration_support import PHONES

    expected = {"nayoro": ("1営業日後", "2026年11月19日(木)"), "kanazawa": ("2営業日後", "2026年11月20日(金)")}
    for city in (nayoro, kanazawa):
        digits = city.settings["registration"]["customer_number_digits"]
        number = "7".zfill(digits)
        make_contract(city, customer_number=number, phone=PHONES[city.slug])
        body = page(Registration(app, client_for(city.slug), city).complete(f"suido-{city.slug}@example.jp", number))
        after, date = expected[city.slug]
        assert f"使用量や料金の照会ができるのは{after}になります。もうしばらくお待ちください。" in body
        assert f"照会できるようになる日: <strong>{date}</strong>" in body
    assert dt.date(2026, 11, 18).weekday() == 2  # the frozen day is a Wednesday
