"""The city's reduction kinds in tenant.toml: a name and a note each, validated by the schema."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from tests.admin.conftest import make_staff, staff_client  # noqa: F401 (the fixtures)
from waterportal.tenancy.schemas import ProceduresSchema


def test_each_demo_city_lists_its_own_reduction_kinds_with_notes(nayoro, kanazawa):
    for city in (nayoro, kanazawa):
        kinds = city.settings["procedures"]["reduction_kinds"]
        assert len(kinds) >= 4 and kinds[0]["name"] == "生活保護世帯"
        assert all(k["note"] for k in kinds)
    assert "ひとり親世帯" in [k["name"] for k in nayoro.settings["procedures"]["reduction_kinds"]]
    assert "社会福祉施設" in [k["name"] for k in kanazawa.settings["procedures"]["reduction_kinds"]]


def test_a_kind_needs_a_name_its_note_may_be_empty_and_names_are_unique():
    loaded = ProceduresSchema().load({"reduction_kinds": [{"name": "生活保護世帯"}]})
    assert loaded["reduction_kinds"] == [{"name": "生活保護世帯", "note": ""}]
    with pytest.raises(ValidationError, match="重複"):
        ProceduresSchema().load({"reduction_kinds": [{"name": "A"}, {"name": "A", "note": "x"}]})
    with pytest.raises(ValidationError):
        ProceduresSchema().load({"reduction_kinds": [{"note": "名前がない"}]})
    with pytest.raises(ValidationError):
        ProceduresSchema().load({"reduction_kinds": ["生活保護世帯"]})  # the old one-line form
    with pytest.raises(ValidationError):
        ProceduresSchema().load({"reduction_kinds": [{"name": "x" * 61}]})


def test_the_citys_admin_edits_the_kinds_and_their_notes_in_the_console(app, staff_client, kanazawa):  # noqa: F811
    from tests.admin.test_settings import settings_post
    from tests.conftest import city

    client = staff_client("kanazawa")
    page = client.get("/admin/settings/procedures").get_data(as_text=True)
    assert 'value="社会福祉施設"' in page and "申請画面の案内" in page
    count = len(kanazawa.settings["procedures"]["reduction_kinds"])
    response = settings_post(client, "procedures", {
        f"procedures.reduction_kinds.{count}.name": "ひとり親世帯",
        f"procedures.reduction_kinds.{count}.note": "児童扶養手当証書の写しを添付してください。",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    kinds = city(app, "kanazawa").settings["procedures"]["reduction_kinds"]
    assert kinds[-1] == {"name": "ひとり親世帯", "note": "児童扶養手当証書の写しを添付してください。"}
