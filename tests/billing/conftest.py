"""The billing tests share the member-page fixtures (imports through the real services, members, login)."""
from __future__ import annotations

from tests.mypage.usage.conftest import bill_ids, customer, load, login  # noqa: F401 - fixtures
