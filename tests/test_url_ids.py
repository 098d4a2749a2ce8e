"""Ids in URLs beyond the database's INTEGER range are a 404, not an overflow error."""
from __future__ import annotations

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [f"/mypage/bills/{HUGE}", f"/mypage/bills/{HUGE}/pdf", f"/mypage/documents/{HUGE}", f"/mypage/contracts/{HUGE}/label",
     f"/mypage/bill-documents/{HUGE}", f"/mypage/certificates/{HUGE}", f"/mypage/bills/{HUGE}/slip",
     f"/mypage/bills/{HUGE}/slip.pdf", f"/mypage/bills/{HUGE}/barcode.svg", f"/mypage/bills/{HUGE}/pay",
     f"/mypage/bills/history/{HUGE}.csv"],
)
def test_huge_ids_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_every_int_argument_is_bounded(app):
    from werkzeug.routing import IntegerConverter

    int_args = [
        (rule.rule, name, converter)
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter)
    ]
    assert len(int_args) >= 5
    assert all(converter.max == 2**31 - 1 for _, _, converter in int_args), int_args
