"""同じ人数の世帯の平均 in Chromium at 360 px (issue 14 §2): the sentence before the bar pair,
nothing wider than the phone, and no axe (WCAG 2.1 A/AA) violation in the card."""
from __future__ import annotations

import pytest

from tests.browser.layout import no_sideways_scroll
from tests.browser.members import PASSWORD, member_with_bills
from tests.browser.test_axe import TAGS
from tests.imports.helpers import bill_row, contract_row, csv_text
from waterportal.extensions import db
from waterportal.imports.services import import_bills, import_contracts
from waterportal.imports.validation import BILL_COLUMNS, CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import get_registry


def with_neighbours(app, number: str) -> None:
    """The member's contract becomes a 3-person household, and 19 more of 3 persons are billed
    for its newest month (2026-10): 20 households make Nayoro's median."""
    neighbours = [contract_row(f"0008{number[-4:]}{i:03d}", persons="3") for i in range(19)]
    with app.app_context():
        city = get_registry().by_slug("nayoro")
        with tenant_context(city):
            rows = [contract_row(number, holder_name="風連 花子", persons="3"), *neighbours]
            assert import_contracts(city, csv_text((*CONTRACT_COLUMNS, "persons"), rows).encode()).ok
            bills = [bill_row(c["customer_number"], "2026-10", usage_m3=str(15 + i), current_reading=str(115 + i))
                     for i, c in enumerate(neighbours)]
            assert import_bills(city, csv_text(BILL_COLUMNS, bills).encode()).ok
            db.session.commit()


@pytest.mark.browser
def test_the_comparison_reads_first_and_fits_a_phone(page, live_server, live_app):
    from axe_playwright_python.sync_playwright import Axe

    email, number, _rows = member_with_bills(live_app)
    with_neighbours(live_app, number)
    page.goto(live_server.url("nayoro", "/login"))
    page.get_by_label("メールアドレス", exact=True).fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/mypage")
    card = page.locator(".household-comparison")
    card.wait_for()
    text = card.inner_text()
    assert "同じ人数（3人）の世帯の平均(中央値):" in text and "あなた:" in text
    # The sentence comes before the chart, which is an image named by its title.
    assert card.locator("p.household-figures").bounding_box()["y"] < card.locator("svg").bounding_box()["y"]
    assert card.get_by_role("img").count() == 1
    assert no_sideways_scroll(page)
    result = Axe().run(page, context=".household-comparison",
                       options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    assert result.response["violations"] == []
