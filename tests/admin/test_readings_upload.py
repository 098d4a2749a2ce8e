"""取り込み → 日ごとの使用量 (issue 14 §6): the console uploads a readings file through the same
service as ``flask import readings``; a bad line rejects the file with its line number."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.admin.test_imports import NO_A, contracts_file, text, upload
from tests.imports.helpers import batches_of, csv_text
from waterportal.extensions import db
from waterportal.imports.readings import READING_COLUMNS
from waterportal.readings.models import MeterReading
from waterportal.tenancy.context import tenant_context


def readings_file(*rows) -> bytes:
    return csv_text(READING_COLUMNS, [{"customer_number": n, "reading_date": d, "usage_m3": u} for n, d, u in rows]
                    ).encode("cp932")


def stored(app, tenant) -> int:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(select(func.count(MeterReading.id)))


def test_an_admin_uploads_daily_readings(app, staff_client, nayoro):
    admin = staff_client("nayoro")
    upload(admin, "contracts", "contracts.csv", contracts_file(NO_A))
    good = readings_file((NO_A, "2026-11-16", "0.2"), (NO_A, "2026-11-17", "０.２５"))
    page = text(upload(admin, "readings", "readings.csv", good))
    assert "日ごとの使用量の取り込み結果: 取り込み完了" in page and "追加 2件、更新 0件、変更なし 0件" in page
    assert "追加 0件、更新 0件、変更なし 2件" in text(upload(admin, "readings", "readings.csv", good))
    bad = readings_file((NO_A, "2026-11-15", "0.1"), (NO_A, "2026-12-01", "0.1"))
    page = text(upload(admin, "readings", "readings.csv", bad))
    assert "取り込み不可(変更なし)" in page
    assert ("3", "reading_date") in re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td>', page)
    assert stored(app, nayoro) == 2
    with app.app_context():
        assert [b.kind for b in batches_of(nayoro)] == ["contracts", "readings", "readings", "readings"]
