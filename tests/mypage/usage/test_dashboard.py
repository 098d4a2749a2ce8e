"""会員さま専用サイト (dashboard): greeting, お客さま番号 and switcher, お知らせ, 今回の請求金額, menu."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.imports.helpers import bill_row
from tests.mypage.usage.conftest import JST, history_rows
from waterportal.extensions import db
from waterportal.notices.models import Notice
from waterportal.tenancy.context import tenant_context

NAYORO_NO, NAYORO_NO2 = "00012345682", "00012345693"
KANAZAWA_NO, KANAZAWA_NO2 = "0100012345", "0100012356"


def test_nayoro_dashboard_shows_latest_bill_from_the_import(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=[
        bill_row(NAYORO_NO, "2026-09", total="5000", water_charge="3000", sewer_charge="2000"),
        bill_row(NAYORO_NO, "2026-10", period_start="2026-09-01", period_end="2026-09-30", usage_m3="21",
                 previous_reading="120", current_reading="141", water_charge="3309", sewer_charge="2200",
                 tax="500", total="5509", due_date="2026-10-31", paid_on=""),
    ])
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "会員さま専用サイト" in body
    assert "花子さま、おはようございます。" in body
    assert "いつも名寄市上下水道ポータルをご利用いただき、誠にありがとうございます。" in body
    assert ">ログアウト</button>" in body and 'action="/logout"' in body
    assert "お客様番号" in body and "お客さま番号" not in body and NAYORO_NO in body  # Nayoro's word only
    assert "今回の請求金額" in body and "令和8年10月" in body and "5,509 円" in body
    assert "令和8年9月1日〜令和8年9月30日" in body  # Nayoro writes 和暦 ([invoice] date_style) and "21 m³" in body
    assert "令和8年10月31日" in body and "未納" in body
    for label, hint in [
        ("使用量・請求金額のグラフ", "過去2年分の推移をグラフで表示できます。"),
        ("料金明細", "過去2年分の料金を照会できます。"),
        ("書類ダウンロード", "帳票のダウンロードができます。"),
    ]:
        assert f">{label}</a>" in body and hint in body
    assert 'href="/mypage/graph"' in body and 'href="/mypage/bills"' in body and 'href="/mypage/documents"' in body
    # ⑦⑧⑨ lead to the profile blueprint's pages
    for endpoint, label in [("/mypage/profile", "会員登録情報の照会・変更"), ("/mypage/withdraw", "退会のお手続き"),
                            ("/mypage/contracts", "各種お手続き")]:
        assert f'href="{endpoint}">{label}</a>' in body
    assert ">メールでのお問い合わせ</a>" in body and ">お客さま窓口一覧</a>" in body and ">FAQ</a>" in body
    assert ">このサイトについて</a>" in body and ">個人情報のお取り扱いについて</a>" in body


def test_kanazawa_dashboard_bimonthly_paid_and_evening_greeting(client_for, kanazawa, customer, login, clock):
    clock.move_to(dt.datetime(2026, 11, 20, 19, 30, tzinfo=JST))
    rows = history_rows(KANAZAWA_NO, 3, newest="2026-09", step=2)
    rows[-1]["paid_on"] = "2026-09-27"
    customer(kanazawa, [KANAZAWA_NO], bills=rows, nickname="一郎")
    client = client_for("kanazawa")
    login(client, kanazawa)
    body = client.get("/mypage").get_data(as_text=True)
    assert "一郎さま、こんばんは。" in body
    assert "いつも金沢市上下水道ポータルサイトをご利用いただき、誠にありがとうございます。" in body
    newest = rows[-1]
    assert "2026年09月" in body and f"{int(newest['total']):,} 円" in body
    assert "納付済 2026/09/27" in body and "未納" not in body
    assert f"{newest['usage_m3']} m³" in body


@pytest.mark.parametrize("hour, words", [(4, "こんばんは"), (5, "おはようございます"), (11, "こんにちは"), (18, "こんばんは")])
def test_greeting_follows_city_time(client, nayoro, customer, login, clock, hour, words):
    customer(nayoro, [NAYORO_NO])
    clock.move_to(dt.datetime(2026, 11, 20, hour, 0, tzinfo=JST))
    login(client, nayoro)
    assert f"花子さま、{words}。" in client.get("/mypage").get_data(as_text=True)


def test_last_updated_is_the_import_time_in_city_time(client, nayoro, customer, login, clock):
    clock.move_to(dt.datetime(2026, 8, 7, 18, 13, 57, tzinfo=JST))  # the import runs now (09:13:57 UTC)
    customer(nayoro, [NAYORO_NO], bills=[bill_row(NAYORO_NO, "2026-07")])
    clock.move_to(dt.datetime(2026, 8, 8, 9, 0, tzinfo=JST))
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "最終更新時間" in body and "2026/08/07 18:13:57" in body


def test_notices_listed_with_new_badge_on_recent_ones(app, client, nayoro, kanazawa, customer, login, clock):
    clock.move_to(dt.datetime(2026, 11, 20, 10, 0, tzinfo=JST))  # a day after the newest notice
    with app.app_context():
        with tenant_context(nayoro):
            db.session.add_all([
                Notice(title="断水のお知らせ", body="11月25日に断水します。", published_at=dt.datetime(2026, 11, 19, 0, 0)),
                Notice(title="料金改定について", body="詳しくは https://example.jp/kaitei をご覧ください。",
                       published_at=dt.datetime(2026, 9, 1, 0, 0)),
                Notice(title="来月の予定", published_at=dt.datetime(2026, 12, 1, 0, 0)),  # not yet published
            ])
            db.session.commit()
        with tenant_context(kanazawa):
            db.session.add(Notice(title="金沢市のお知らせ", published_at=dt.datetime(2026, 11, 19, 0, 0)))
            db.session.commit()
    customer(nayoro, [NAYORO_NO])
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "断水のお知らせ" in body and "料金改定について" in body
    assert "来月の予定" not in body and "金沢市のお知らせ" not in body
    recent = body[body.index("断水のお知らせ") - 300:body.index("断水のお知らせ")]
    older = body[body.index("料金改定について") - 300:body.index("料金改定について")]
    assert "令和8年11月19日" in recent and "New" in recent
    assert "令和8年9月1日" in older and "New" not in older
    assert '<a href="https://example.jp/kaitei"' in body


def test_several_contracts_switch_between_them(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO, NAYORO_NO2], bills=[
        bill_row(NAYORO_NO, "2026-10", total="5000"),
        bill_row(NAYORO_NO2, "2026-10", water_charge="1000", sewer_charge="234", tax="112", total="1234"),
    ])
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "5,000 円" in body and "1,234 円" not in body
    assert 'name="contract_id"' in body and NAYORO_NO2 in body
    token = client.csrf_token("/mypage")
    ids = {}
    import re

    for value, text in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', body):
        ids[text] = int(value)
    response = client.post("/mypage/contract", data={"csrf_token": token, "contract_id": ids[NAYORO_NO2],
                                                      "next": "/mypage/bills"})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage/bills"
    body = client.get("/mypage").get_data(as_text=True)
    assert "1,234 円" in body and "5,000 円" not in body
    # only a linked contract can be selected; an unknown next goes to the dashboard
    assert client.post("/mypage/contract", data={"csrf_token": token, "contract_id": 999999}).status_code == 404
    assert client.post("/mypage/contract", data={"csrf_token": token, "contract_id": "x"}).status_code == 404
    response = client.post("/mypage/contract", data={"csrf_token": token, "contract_id": ids[NAYORO_NO],
                                                      "next": "https://evil.example/"})
    assert response.headers["Location"] == "/mypage"


def test_switching_to_another_members_contract_is_404(client, nayoro, customer, login, clock, app):
    customer(nayoro, [NAYORO_NO])
    other = customer(nayoro, [NAYORO_NO2], email="other@example.jp")
    assert other
    login(client, nayoro)
    from sqlalchemy import select

    from waterportal.contracts.models import Contract

    with app.app_context(), tenant_context(nayoro):
        foreign = db.session.scalar(select(Contract.id).where(Contract.customer_number == NAYORO_NO2))
    token = client.csrf_token("/mypage")
    assert client.post("/mypage/contract", data={"csrf_token": token, "contract_id": foreign}).status_code == 404
    assert NAYORO_NO2 not in client.get("/mypage").get_data(as_text=True)


def test_no_bill_yet(client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO])
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "ご請求の情報はまだありません。" in body


def test_dashboard_requires_login(client):
    response = client.get("/mypage")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_dashboard_puts_the_amount_first_and_draws_the_last_12_periods(client, nayoro, customer, login, clock):
    """Issue 13 #2: the amount, its due date and payment status come first (the phone's order),
    and a small chart of the last 12 periods' usage is on the dashboard itself."""
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 14, newest="2026-10"))
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    main = body[body.index('<div class="dashboard">'):]
    order = [main.index(text) for text in ("今回の請求金額", "納期限", "納付状況", "照会メニュー", "お客様番号",
                                           "お知らせ", "さま、")]
    assert order == sorted(order)
    chart = main[main.index('<svg'):main.index('</svg>')]
    assert "使用量の推移(直近12回)" in chart and chart.count('<rect class="bar-now"') == 12
    assert "令和7年11月: 12 m³" in chart and "令和7年10月" not in chart  # 14 bills: the oldest two left out (Nayoro: 和暦)
