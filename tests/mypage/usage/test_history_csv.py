"""My data (issue 14 §5): a linked contract's two years of bills as CSV (billing/history.py,
mypage/usage/history_views.py), read back the way a spreadsheet reads it: bytes decoded
(UTF-8 with its BOM, or cp932), split by the csv module, numbers and dates parsed."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import unquote

from sqlalchemy import select

from tests.mypage.usage.conftest import history_rows
from waterportal.billing.history import HEADER, first_month, history_csv
from waterportal.billing.models import Bill
from waterportal.contracts.models import Contract
from waterportal.extensions import db
from waterportal.tenancy.context import tenant_context

NAYORO_NO, OTHER_NO = "00012345682", "00012345693"
KANAZAWA_NO = "0100012345"


def contract_id(app, tenant, number: str) -> int:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(select(Contract.id).where(Contract.customer_number == number))


def open_as_spreadsheet(data: bytes, encoding: str, word: str = "お客様番号") -> list[dict[str, str]]:
    """What a spreadsheet does with the file: decode, split into cells, one record per row.
    The first column is named with the city's ``word`` (名寄: お客様番号, 金沢: お客さま番号)."""
    text = data.decode(encoding)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF rows, as Excel writes them
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = (word, *HEADER[1:])
    assert tuple(rows[0]) == header and all(len(row) == len(header) for row in rows)
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_two_years_of_bills_in_utf8_with_a_bom(app, client, nayoro, customer, login, clock):
    rows = history_rows(NAYORO_NO, 30, newest="2026-10")  # 2024-05 .. 2026-10, the newest unpaid
    customer(nayoro, [NAYORO_NO], bills=rows)
    login(client, nayoro)
    response = client.get(f"/mypage/bills/history/{contract_id(app, nayoro, NAYORO_NO)}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    fallback = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert disposition.startswith("attachment;") and fallback.isascii() and fallback.endswith("_00012345682_20261118.csv")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "使用履歴_00012345682_20261118.csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    records = open_as_spreadsheet(response.data, "utf-8-sig")
    # Today is 2026-11-18: 2024-12 is the oldest month in the file, 2024-11 and before are not.
    assert first_month(dt.date(2026, 11, 18)) == "2024-12"
    assert [r["請求月"] for r in records][:2] == ["令和6年12月", "令和7年1月"]  # Nayoro: 和暦
    assert len(records) == 23 and records[-1]["請求月"] == "令和8年10月"
    for record, row in zip(records, rows[7:], strict=True):
        assert int(record["使用量(m3)"]) == int(row["usage_m3"]) and int(record["合計(円)"]) == int(row["total"])
        assert int(record["水道料金(円)"]) + int(record["下水道使用料(円)"]) == int(record["合計(円)"])
        assert int(record["うち消費税等(円)"]) == int(row["tax"])
        assert dt.datetime.strptime(record["検針日"], "%Y/%m/%d").date().isoformat() == row["reading_date"]
        assert dt.datetime.strptime(record["納期限"], "%Y/%m/%d").date().isoformat() == row["due_date"]
        assert record["お客様番号"] == NAYORO_NO  # the city's word (Kanazawa: お客さま番号)
    assert (records[-2]["納付状況"], records[-2]["納付日"]) == ("納付済", "2026/09/25")
    assert (records[-1]["納付状況"], records[-1]["納付日"]) == ("未納", "")


def test_shift_jis_on_request_has_the_same_cells(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 3, newest="2026-10"))
    login(client, nayoro)
    url = f"/mypage/bills/history/{contract_id(app, nayoro, NAYORO_NO)}.csv"
    utf8, sjis = client.get(url), client.get(f"{url}?encoding=shift_jis")
    assert sjis.status_code == 200 and sjis.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert not sjis.data.startswith(b"\xef\xbb\xbf") and "請求月".encode("cp932") in sjis.data
    assert open_as_spreadsheet(sjis.data, "cp932") == open_as_spreadsheet(utf8.data, "utf-8-sig")
    assert client.get(f"{url}?encoding=latin-1").status_code == 400


def test_kanazawa_is_bimonthly_and_western(app, client_for, kanazawa, customer, login, clock):
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 14, newest="2026-09", step=2))
    client = client_for("kanazawa")
    login(client, kanazawa)
    data = client.get(f"/mypage/bills/history/{contract_id(app, kanazawa, KANAZAWA_NO)}.csv").data
    months = [r["請求月"] for r in open_as_spreadsheet(data, "utf-8-sig", word="お客さま番号")]
    assert months[0] == "2025年01月" and months[-1] == "2026年09月" and len(months) == 11  # 2024-11 is out


def test_only_the_members_own_contracts(app, client, client_for, nayoro, kanazawa, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 2, newest="2026-10"))
    customer(nayoro, [OTHER_NO], email="jiro@example.jp", bills=history_rows(OTHER_NO, 2, newest="2026-10"))
    customer(kanazawa, [KANAZAWA_NO], bills=history_rows(KANAZAWA_NO, 2, newest="2026-09", step=2))
    assert client.get(f"/mypage/bills/history/{contract_id(app, nayoro, NAYORO_NO)}.csv").status_code == 302  # log in first
    login(client, nayoro)
    for other in (contract_id(app, nayoro, OTHER_NO), contract_id(app, kanazawa, KANAZAWA_NO), 2**31 - 1):
        assert client.get(f"/mypage/bills/history/{other}.csv").status_code == 404
    late = client_for("nayoro")  # a member whose data is not shown yet: nothing to download either
    customer(nayoro, [NAYORO_NO], email="late@example.jp", data_visible_from=dt.date(2026, 11, 24))
    login(late, nayoro, "late@example.jp")
    assert late.get(f"/mypage/bills/history/{contract_id(app, nayoro, NAYORO_NO)}.csv").status_code == 404


def test_cells_a_spreadsheet_would_run_are_text(app, nayoro, customer, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 1, newest="2026-10"))
    with app.app_context(), tenant_context(nayoro):
        contract = db.session.scalar(select(Contract))
        bill = db.session.scalar(select(Bill))
        bill.paid_via = '=HYPERLINK("http://evil.example/","x")'  # never sent by the import; the writer still guards
        (record,) = open_as_spreadsheet(history_csv(nayoro, contract, [bill]), "utf-8-sig")
        db.session.rollback()
    assert record["お支払い方法"] == "'" + '=HYPERLINK("http://evil.example/","x")'


def test_the_bill_list_and_graph_link_to_both_encodings(app, client, nayoro, customer, login, clock):
    customer(nayoro, [NAYORO_NO], bills=history_rows(NAYORO_NO, 3, newest="2026-10"))
    login(client, nayoro)
    own = contract_id(app, nayoro, NAYORO_NO)
    for path in ("/mypage/bills", "/mypage/graph"):
        body = client.get(path).get_data(as_text=True)
        assert f'<a href="/mypage/bills/history/{own}.csv" download>CSVでダウンロード(文字コード UTF-8・Excel向け)</a>' in body
        assert (f'<a href="/mypage/bills/history/{own}.csv?encoding=shift_jis" download>'
                "CSVでダウンロード(文字コード Shift_JIS)</a>") in body, path
    client.set_cookie("lang", "en", domain="nayoro.localhost")
    assert "Download as CSV (Shift_JIS)" in client.get("/mypage/bills").get_data(as_text=True)
