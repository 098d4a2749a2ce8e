"""Row ids: which tables count in 64 bits, and the bounds an id in a URL may have.

PostgreSQL's ``INTEGER`` stops at 2,147,483,647. At national scale (1,741 cities, about 50
million contracts) the tables that grow per contract per period pass that within years, the
daily meter readings within months, so their ids and every column that holds one of them are
:data:`BIG_ID`: ``BIGINT`` on PostgreSQL (a ``bigserial`` key), and on SQLite still
``INTEGER``, which is already 64-bit there and must stay exactly that type so the key remains
the rowid alias (autoincrement; a ``BIGINT PRIMARY KEY`` would not be one).

A PostgreSQL sequence hands out a value for every row an ``INSERT`` proposes, even one that
``ON CONFLICT DO UPDATE`` turns into an update: every import of the contracts, bills and
readings files uses up one id per row, new or not, so those tables count imports, not rows.

The tables that grow per city or per member keep 32-bit ids (docs/architecture.md, data).
Ids in URLs are bounded by the column they are looked up in (``waterportal.app``): an
``<int:...>`` argument stops at :data:`INT_ID_MAX`, a ``<bigint:...>`` one (a 64-bit table's
id) at :data:`BIG_ID_MAX`; past it the page is a 404 before any query, since PostgreSQL would
refuse the value (``::INTEGER``/``::BIGINT`` casts) with an error and SQLite's driver cannot
bind an int beyond 64 bits.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from werkzeug.routing import IntegerConverter

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
INT_ID_MAX = 2**31 - 1
BIG_ID_MAX = 2**63 - 1


class DatabaseInt(IntegerConverter):
    """``<int:...>``: digits only, at most :data:`INT_ID_MAX` (a 32-bit table's id);
    anything else is a plain 404 before any query, never an overflow error from the database
    (werkzeug refuses what ``int()`` cannot parse, however long)."""

    default_max = INT_ID_MAX

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", self.default_max)
        super().__init__(url_map, *args, **kwargs)


class DatabaseBigInt(DatabaseInt):
    """``<bigint:...>``: a 64-bit table's id (:data:`BIG_ID`), at most :data:`BIG_ID_MAX`."""

    default_max = BIG_ID_MAX
