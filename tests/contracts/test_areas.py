"""The 町名/丁目 of an address (contracts/areas.py): the rule area alerts match by (issue 14 §4),
on the demo addresses of both cities and the usual shapes of Japanese addresses."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from tests.imports.helpers import contract_row, csv_text
from waterportal.contracts.areas import area_of, split_area
from waterportal.contracts.models import Contract
from waterportal.demo.cities import KANAZAWA, NAYORO
from waterportal.extensions import db
from waterportal.imports.services import import_contracts
from waterportal.imports.validation import CONTRACT_COLUMNS
from waterportal.tenancy.context import tenant_context


@pytest.mark.parametrize(("address", "area"), [
    # Nayoro: 条丁目 (the town holds its 条), 風連町's towns, rural 字, a building after a space.
    ("名寄市西4条南7丁目3番地", "西4条南7丁目"),
    ("名寄市西4条南11丁目3番地 コーポ西4条南103号室", "西4条南11丁目"),
    ("名寄市風連町西町196番地1", "風連町西町"),
    ("名寄市字智恵文1234番地", "字智恵文"),
    ("北海道名寄市 西四条南七丁目", "西4条南7丁目"),
    # Kanazawa: 町名 + 丁目, towns without 丁目, one name inside another (本町, 駅西本町).
    ("金沢市広坂1丁目2番5号", "広坂1丁目"),
    ("石川県金沢市広坂一丁目２番５号", "広坂1丁目"),
    ("金沢市此花町12番3号 ハイツ此花町304", "此花町"),
    ("金沢市本町2丁目1番1号", "本町2丁目"),
    ("金沢市駅西本町2丁目1番1号", "駅西本町2丁目"),
    ("広坂1-2-5", "広坂1丁目"),
    ("広坂１－２－５", "広坂1丁目"),
    # Elsewhere: wards, counties, 番町 names, a 丁目 in kanji beyond ten.
    ("札幌市中央区北1条西2丁目1番地", "北1条西2丁目"),
    ("北海道上川郡下川町幸町1番地", "幸町"),
    ("東京都千代田区一番町1番地", "一番町"),
    ("仙台市青葉区一番町二丁目1-1", "一番町2丁目"),
    ("名寄市西十二条南十一丁目", "西12条南11丁目"),
    ("", None),
    ("   ", None),
])
def test_area_of(address, area):
    assert area_of(address) == area


def test_one_chome_is_not_eleven():
    assert area_of("名寄市西4条南1丁目1番地") != area_of("名寄市西4条南11丁目1番地")
    assert area_of("金沢市広坂1丁目") != area_of("金沢市広坂11丁目")


def test_split_area():
    assert split_area("西4条南7丁目") == ("西4条南", 7)
    assert split_area("広坂11丁目") == ("広坂", 11)
    assert split_area("此花町") == ("此花町", None)


@pytest.mark.parametrize("profile", [NAYORO, KANAZAWA], ids=["nayoro", "kanazawa"])
def test_every_demo_address_has_its_town_and_chome(profile):
    """The demo generator's addresses: the area is the address's start up to its 丁目 (or its town)."""
    rng = random.Random(14)
    for _ in range(500):
        address, _sewer = profile.address(rng)
        area = area_of(address)
        street = address.removeprefix("名寄市").removeprefix("金沢市")
        assert area and street.startswith(area), (address, area)
        if "丁目" in address:
            assert area.endswith("丁目") and street[len(area):][:1].isdigit(), (address, area)
        else:
            assert not any(ch.isdigit() for ch in area.replace("条", "")), (address, area)


def test_the_contracts_import_stores_each_address_area(app_ctx, nayoro):
    """The import's writers (executemany on SQLite, COPY + merge on PostgreSQL) store the area
    with each row, and a changed address changes it; the model does the same."""
    def load(*addresses):
        rows = [contract_row(f"0001234{n:04d}", address=a) for n, a in enumerate(addresses)]
        assert import_contracts(nayoro, csv_text(CONTRACT_COLUMNS, rows).encode()).ok
        with tenant_context(nayoro):
            return db.session.scalars(select(Contract.address_area).order_by(Contract.customer_number)).all()

    assert load("名寄市西4条南1丁目3番地", "名寄市西4条南11丁目3番地", "風連町西町196番地1") == [
        "西4条南1丁目", "西4条南11丁目", "風連町西町"]
    assert load("名寄市西4条南2丁目3番地", "名寄市西4条南11丁目3番地", "風連町西町196番地1")[0] == "西4条南2丁目"
    with tenant_context(nayoro):
        contract = db.session.scalar(select(Contract).order_by(Contract.customer_number))
        contract.address = "名寄市東1条北2丁目"
        assert contract.address_area == "東1条北2丁目"
        db.session.rollback()
