"""The contracts import's optional ``persons`` column (世帯人数, issue 14 §2): 1-20 or empty,
full-width digits accepted; anything else is an error naming the line, and nothing lands."""
from __future__ import annotations

from tests.imports.helpers import contract_row, contracts_of
from waterportal.imports.services import import_contracts
from waterportal.imports.validation import CONTRACT_COLUMNS

HEADER = (*CONTRACT_COLUMNS, "persons")


def test_persons_is_stored_empty_means_unknown(nayoro, write_csv):
    rows = [contract_row("01234567891", persons="1"), contract_row("01234567892", persons=""),
            contract_row("01234567893", persons="２０")]
    assert import_contracts(nayoro, write_csv(HEADER, rows)).ok
    assert [c.persons for c in contracts_of(nayoro)] == [1, None, 20]
    # A file without the column sets the contracts it names back to "not known".
    assert import_contracts(nayoro, write_csv(CONTRACT_COLUMNS, rows[:1])).ok
    assert contracts_of(nayoro)[0].persons is None


def test_bad_persons_are_line_errors_and_nothing_lands(nayoro, write_csv):
    rows = [contract_row("01234567891", persons="3"), contract_row("01234567892", persons="0"),
            contract_row("01234567893", persons="21"), contract_row("01234567894", persons="二人"),
            contract_row("01234567895", persons="2.5")]
    result = import_contracts(nayoro, write_csv(HEADER, rows))
    assert not result.ok
    assert [(e.line, e.column) for e in result.errors] == [(3, "persons"), (4, "persons"), (5, "persons"),
                                                           (6, "persons")]
    assert "世帯人数は1から20の整数で入力してください" in result.errors[0].message
    assert contracts_of(nayoro) == []
