"""同じ人数の世帯の平均 on the dashboard and the graph page (issue 14 §2): the sentence first and
a bar pair, the city's median where at least 20 households make it, else the national table
labelled as such; nothing for a contract whose household size is not known."""
from __future__ import annotations

import re

import pytest

from tests.imports.helpers import bill_row, contract_row, csv_text
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context

MINE = "00012345682"


def neighbours(app, tenant, count: int, persons: str = "3", mine: str | None = "3") -> None:
    """``count`` households of ``persons`` (usages 11, 12, ...) and the member's own contract
    (10 m³, ``mine`` persons: one of the group when the same), all billed for 2026-10."""
    contracts = [contract_row(f"0009{i:07d}", persons=persons) for i in range(count)]
    contracts.append(contract_row(MINE, persons=mine or ""))
    usage = {c["customer_number"]: 11 + i for i, c in enumerate(contracts[:-1])} | {MINE: 10}
    bills = [bill_row(n, "2026-10", usage_m3=str(u), current_reading=str(100 + u)) for n, u in usage.items()]
    with app.app_context(), tenant_context(tenant):
        assert import_contracts(tenant, csv_text((*CONTRACT_COLUMNS, "persons"), contracts).encode()).ok
        assert import_bills(tenant, csv_text(BILL_COLUMNS, bills).encode()).ok
        db.session.commit()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", ["/mypage", "/mypage/graph"])
def test_twenty_households_show_the_citys_median_text_first(app, client, nayoro, customer, login, path):
    neighbours(app, nayoro, 19)
    customer(nayoro, [MINE])
    login(client, nayoro)
    body = client.get(path).get_data(as_text=True)
    section = body[body.index('class="card household-comparison"'):]
    section = section[:section.index("</section>")]
    # The member (10 m³) and 19 neighbours (11..29 m³): the median of 20 households is 19.5.
    assert "同じ人数（3人）の世帯の平均(中央値): 19.5 m³ / あなた: 10 m³" in text_of(section)
    assert "20世帯" in text_of(section) and "全国" not in section
    # Text first, the chart second, named by its title.
    assert section.index("household-figures") < section.index("<svg")
    assert 'role="img"' in section and "あなた: 10 m³、同じ人数の世帯: 19.5 m³" in section


def test_nineteen_households_show_the_national_table_labelled_as_such(app, client, nayoro, customer, login):
    neighbours(app, nayoro, 18)
    customer(nayoro, [MINE])
    login(client, nayoro)
    page = text_of(client.get("/mypage").get_data(as_text=True))
    assert "全国(東京都水道局の公表値)の目安(3人の世帯): 19.9 m³ / あなた: 10 m³" in page
    assert "世帯の平均(中央値)" not in page


def test_five_and_more_say_they_use_the_four_person_figure(app, client, nayoro, customer, login):
    neighbours(app, nayoro, 3, mine="6")
    customer(nayoro, [MINE])
    login(client, nayoro)
    page = text_of(client.get("/mypage").get_data(as_text=True))
    assert "全国(東京都水道局の公表値)の目安(5人以上の世帯): 23.1 m³ / あなた: 10 m³" in page
    assert "5人以上の世帯は4人世帯の値です。" in page


def test_no_household_size_no_comparison(app, client, nayoro, customer, login):
    neighbours(app, nayoro, 19, mine=None)
    customer(nayoro, [MINE])
    login(client, nayoro)
    body = client.get("/mypage").get_data(as_text=True)
    assert "household-comparison" not in body and "今回の請求金額" in body


@pytest.mark.parametrize(("code", "words"), [("en", "Households of the same size (3 person(s))"),
                                              ("easy", "おなじ 人数")])
def test_the_comparison_in_english_and_easy_japanese(app, client, nayoro, customer, login, code, words):
    neighbours(app, nayoro, 19)
    customer(nayoro, [MINE])
    login(client, nayoro)
    client.submit("/language", {"lang": code, "next": "/mypage"}, form_page="/mypage")
    page = text_of(client.get("/mypage").get_data(as_text=True))
    assert words in page and "19.5 m³" in page and "同じ人数（3人）の世帯の平均" not in page
