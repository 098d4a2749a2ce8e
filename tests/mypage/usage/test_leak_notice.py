"""The 漏水の可能性 notice (issue 14 §1) on the dashboard and the bill's page: what to check, the
link to 漏水減額 where the city takes it online, only for the contract's latest bill; the
notification setting that switches the mail off."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.billing.test_leaks import usage_rows
from tests.conftest import city
from waterportal.accounts.models import Member
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NAYORO_NO = "00012345682"
KANAZAWA_NO = "0100012345"
CHECK = "水道メーターのパイロット(小さな羽根車)が回っていないか確認してください。"


def leak_box(page: str) -> str:
    """The notify_leak checkbox's tag."""
    return re.search(r'<input[^>]*name="notify_leak"[^>]*>', page).group(0)


def test_the_dashboard_and_the_bill_show_the_notice_with_the_leak_reduction_link(
        app, client, nayoro, customer, load, login, bill_ids, clock):
    customer(nayoro, [NAYORO_NO], bills=usage_rows(NAYORO_NO, [20] * 12 + [40], newest="2026-10"))
    login(client, nayoro)
    response = client.get("/mypage")
    body = response.get_data(as_text=True)
    assert "漏水の可能性があります(令和8年10月分)" in body
    assert "今回の使用量(40 m³)が、昨年の同じ時期(20 m³)より大きく増えています。" in body
    assert "家の中と外の蛇口をすべて閉めてください。" in body and CHECK in body
    assert '<a href="/procedures/new/leak_reduction">漏水減額の申請(修理のあと)</a>' in body
    assert "no-store" in response.headers["Cache-Control"]
    october = bill_ids(nayoro, NAYORO_NO)["2026-10"]
    assert "漏水の可能性があります(令和8年10月分)" in client.get(f"/mypage/bills/{october}").get_data(as_text=True)
    # November's bill is normal: the dashboard drops the notice; October's page keeps it.
    load(nayoro, bills=usage_rows(NAYORO_NO, [20] * 12 + [40, 21], newest="2026-11")[-1:])
    assert "漏水の可能性" not in client.get("/mypage").get_data(as_text=True)
    assert CHECK in client.get(f"/mypage/bills/{october}").get_data(as_text=True)
    september = bill_ids(nayoro, NAYORO_NO)["2026-09"]
    assert "漏水の可能性" not in client.get(f"/mypage/bills/{september}").get_data(as_text=True)


def test_no_link_where_the_city_does_not_take_leak_reductions_and_english(
        app, client_for, kanazawa, customer, login, clock):
    from waterportal.admin.settings.services import apply_overrides

    enabled = [kind for kind in kanazawa.settings["procedures"]["enabled"] if kind != "leak_reduction"]
    with app.app_context(), tenant_context(kanazawa):
        apply_overrides(kanazawa, {"procedures": {"enabled": enabled}}, actor="test")
        db.session.commit()
    kanazawa = city(app, "kanazawa")
    customer(kanazawa, [KANAZAWA_NO], bills=usage_rows(KANAZAWA_NO, [30] * 6 + [70], newest="2026-09", step=2))
    client = client_for("kanazawa")
    login(client, kanazawa)
    body = client.get("/mypage").get_data(as_text=True)
    assert "漏水の可能性があります(2026年09月分)" in body and "(70 m³)" in body
    assert "leak_reduction" not in body and "漏水減額" not in body
    client.set_cookie("lang", "en", domain="kanazawa.localhost")
    english = client.get("/mypage").get_data(as_text=True)
    assert "Possible water leak (September 2026)" in english and "pilot" in english


def test_the_member_switches_the_leak_mail_off_and_on(app, client, nayoro, customer, login, clock):
    member_id = customer(nayoro, [NAYORO_NO])
    login(client, nayoro)
    page = client.get("/mypage/profile/notifications").get_data(as_text=True)
    assert "漏水の可能性のお知らせメール(使用量が昨年の同じ時期より大きく増えたとき)を受け取る" in page
    assert "checked" in leak_box(page)

    def leak_choice():
        with app.app_context(), tenant_context(nayoro):
            return db.session.scalar(select(Member.notify_leak).where(Member.id == member_id))

    assert client.submit("/mypage/profile/notifications", {"notify_bills": "y"}).status_code == 302
    assert leak_choice() is False
    page = client.get("/mypage/profile/notifications").get_data(as_text=True)
    assert "checked" not in leak_box(page)
    assert client.submit("/mypage/profile/notifications", {"notify_leak": "y"}).status_code == 302
    assert leak_choice() is True
