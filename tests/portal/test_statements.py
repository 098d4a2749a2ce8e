"""Every member page issues the same number of SQL statements for 1 bill as for 24."""
from __future__ import annotations

from tests.portal.conftest import history_rows

SHORT, LONG = "00012345682", "00012345693"


PAGES = ("dashboard", "graph", "bills", "bill", "documents", "pdf")


def statements_per_page(client, paths, count_statements) -> dict[str, list[str]]:
    counts = {}
    for name, path in zip(PAGES, paths, strict=True):
        client.get(path)  # warm-up: the first request after login may touch the session row
        with count_statements() as seen:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[name] = list(seen)
    return counts


def test_statement_count_does_not_grow_with_history(client_for, nayoro, customer, login, clock, bill_ids,
                                                    count_statements):
    customer(nayoro, [SHORT], bills=history_rows(SHORT, 1))
    customer(nayoro, [LONG], bills=history_rows(LONG, 24), email="long@example.jp")
    results = []
    for number, email in ((SHORT, "hanako@example.jp"), (LONG, "long@example.jp")):
        client = client_for("nayoro")
        login(client, nayoro, email)
        bill_id = bill_ids(nayoro, number)["2026-10"]
        paths = ["/mypage", "/mypage/graph", "/mypage/bills", f"/mypage/bills/{bill_id}", "/mypage/documents",
                 f"/mypage/bills/{bill_id}/pdf"]
        results.append(statements_per_page(client, paths, count_statements))
    short, long = results
    assert {k: len(v) for k, v in short.items()} == {k: len(v) for k, v in long.items()}
    # savepoint + its rollback (test transaction), tenant registry check, session + member (user
    # loader), the member's links, and the page's own one or two queries
    assert max(len(v) for v in short.values()) <= 8, short
