"""flask tenant add-host / disable / enable / export / check: through provisioning/services.py,
audited in the city's log, effective on the next request without a restart."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.admin import conftest as admin_fixtures
from waterportal.accounts.models import Member
from waterportal.admin.settings.services import apply_overrides
from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import export_definition
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import get_registry

audit_entries = admin_fixtures.audit_entries  # the staff console tests' fixture, shared here


def tenant_row(slug: str) -> Tenant:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def test_add_host_serves_the_city_on_it_at_once(app_ctx, runner, client_for, nayoro, audit_entries):
    result = runner.invoke(args=["tenant", "add-host", "nayoro", "Suido.City.Nayoro.Example."])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "added suido.city.nayoro.example -> nayoro"
    assert "does not say so" in result.stderr and "tenants/nayoro/tenant.toml" in result.stderr
    row = tenant_row("nayoro")
    assert [h.host for h in row.hosts] == ["nayoro.localhost", "suido.city.nayoro.example"]
    assert row.primary_host == "nayoro.localhost" and row.version == 2
    page = client_for("suido.city.nayoro.example").get("/login").get_data(as_text=True)
    assert "名寄市" in page
    assert audit_entries(nayoro, "tenant.add_host")[0][:4] == (
        "vendor:cli", "tenant.add_host", "nayoro", {"host": "suido.city.nayoro.example"})
    again = runner.invoke(args=["tenant", "add-host", "nayoro", "suido.city.nayoro.example"])
    assert again.exit_code == 0 and again.stdout.strip() == "unchanged suido.city.nayoro.example -> nayoro"
    assert tenant_row("nayoro").version == 2


@pytest.mark.parametrize(("host", "reason"), [
    ("Kanazawa.Localhost", "host: 他の市町村が使用中のホストです: kanazawa.localhost"),
    ("vendor.localhost", "host: ベンダー管理画面用に予約されたホストです: vendor.localhost"),
    ("not a host", "host: ホスト名が正しくありません: not a host"),
])
def test_add_host_refuses_what_is_not_the_citys_to_take(app_ctx, runner, host, reason):
    result = runner.invoke(args=["tenant", "add-host", "nayoro", host])
    assert result.exit_code == 1 and reason in result.output
    assert tenant_row("nayoro").version == 1 and [h.host for h in tenant_row("nayoro").hosts] == ["nayoro.localhost"]


def test_unknown_city_is_named(app_ctx, runner):
    for args in (["add-host", "nowhere", "x.example"], ["disable", "nowhere"], ["export", "nowhere"]):
        result = runner.invoke(args=["tenant", *args])
        assert result.exit_code == 1 and "slug: 市町村がありません: nowhere" in result.output


def test_disable_shows_the_notice_page_and_keeps_the_data(app, app_ctx, runner, client_for, nayoro, make_member, audit_entries):
    member_id = make_member(nayoro, email="taro@example.jp")
    result = runner.invoke(args=["tenant", "disable", "nayoro"])
    assert result.exit_code == 0 and result.stdout.strip() == "disabled nayoro"
    assert "set enabled = true again" in result.stderr
    client = client_for("nayoro")
    for path in ("/login", "/admin/login", "/inquiry"):
        response = client.get(path)
        assert response.status_code == 503 and "サービスを休止しています" in response.get_data(as_text=True), path
    assert client_for("kanazawa").get("/admin/login").status_code == 200
    # The contact page is closed as well: the notice itself names where to call.
    assert client.get("/contact").status_code == 503
    notice = client.get("/login").get_data(as_text=True)
    for window in nayoro.settings["contact"]["windows"]:
        assert window["name"] in notice and f'href="tel:{window["phone"].replace("-", "")}"' in notice
    assert runner.invoke(args=["tenant", "disable", "nayoro"]).stdout.strip() == "unchanged nayoro (already disabled)"
    with tenant_context(get_registry().by_slug("nayoro")):
        assert db.session.scalar(select(Member.email).where(Member.id == member_id)) == "taro@example.jp"
    assert runner.invoke(args=["tenant", "enable", "nayoro"]).stdout.strip() == "enabled nayoro"
    assert client.get("/login").status_code == 200
    assert [e[1] for e in audit_entries(nayoro) if e[1] in ("tenant.disable", "tenant.enable")] == [
        "tenant.disable", "tenant.enable"]
    assert tenant_row("nayoro").version == 3


@pytest.mark.parametrize("slug", ["nayoro", "kanazawa"])
def test_export_applies_back_unchanged(app_ctx, runner, tmp_path, slug):
    exported = runner.invoke(args=["tenant", "export", slug])
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith("# ") and f"`flask tenant export {slug}` (version 1)" in exported.output
    parsed = tomllib.loads(exported.output)
    assert parsed == {k: v for k, v in export_definition(slug).items() if v is not None}  # None: not set
    folder = tmp_path / slug
    folder.mkdir()
    (folder / "tenant.toml").write_text(exported.output, encoding="utf-8")
    applied = runner.invoke(args=["tenant", "apply", str(folder)])
    assert applied.exit_code == 0 and applied.output.strip() == f"unchanged {slug} (version 1)"


def test_export_after_vendor_changes_round_trips_too(app_ctx, runner, tmp_path):
    runner.invoke(args=["tenant", "add-host", "kanazawa", "suido.kanazawa.example"])
    runner.invoke(args=["tenant", "disable", "kanazawa"])
    exported = runner.invoke(args=["tenant", "export", "kanazawa"]).output
    parsed = tomllib.loads(exported)
    assert parsed["hosts"] == ["kanazawa.localhost", "suido.kanazawa.example"] and parsed["enabled"] is False
    assert parsed["contact"]["windows"][0]["name"] == "金沢市企業局 お客さまサービスセンター"
    assert "\n[[texts.faq]]\n" in exported and "service_hours" in parsed
    folder = tmp_path / "kanazawa"
    folder.mkdir()
    (folder / "tenant.toml").write_text(exported, encoding="utf-8")
    assert runner.invoke(args=["tenant", "apply", str(folder)]).output.strip() == "unchanged kanazawa (version 3)"


def test_export_names_console_overrides_and_can_include_them(app_ctx, runner, tmp_path, nayoro):
    with tenant_context(nayoro):
        apply_overrides(nayoro, {"notices": {"new_badge_days": 3}}, actor="staff:1")
        db.session.commit()
    plain = runner.invoke(args=["tenant", "export", "nayoro"]).output
    assert "#   notices.new_badge_days = 3" in plain and tomllib.loads(plain)["notices"]["new_badge_days"] == 7
    merged = runner.invoke(args=["tenant", "export", "nayoro", "--with-overrides"]).output
    assert tomllib.loads(merged)["notices"]["new_badge_days"] == 3
    folder = tmp_path / "nayoro"
    folder.mkdir()
    (folder / "tenant.toml").write_text(merged, encoding="utf-8")
    applied = runner.invoke(args=["tenant", "apply", str(folder)]).output
    assert applied.strip() == "updated nayoro (version 3): notices.new_badge_days"
    get_registry().refresh(force=True)
    assert get_registry().by_slug("nayoro").settings["notices"]["new_badge_days"] == 3


def test_export_escapes_what_toml_needs(app_ctx, runner, tmp_path):
    row = tenant_row("nayoro")
    row.settings = {**row.settings, "texts": {**row.settings["texts"], "about": 'a "quoted"\\ line\nnext\ttab \x7f end'}}
    db.session.commit()
    parsed = tomllib.loads(runner.invoke(args=["tenant", "export", "nayoro"]).output)
    assert parsed["texts"]["about"] == 'a "quoted"\\ line\nnext\ttab \x7f end'


@pytest.fixture
def tenants_copy(tmp_path) -> Path:
    folder = tmp_path / "tenants"
    shutil.copytree(TENANTS_DIR, folder, ignore=shutil.ignore_patterns("templates", "assets"))
    return folder


def test_check_passes_the_real_cities(app_ctx, runner):
    result = runner.invoke(args=["tenant", "check"])
    assert result.exit_code == 0, result.output
    assert "ok " in result.output and "nayoro/tenant.toml" in result.output and "2 file(s), 0 refused" in result.output


def test_check_names_every_refused_key_and_exits_non_zero(app_ctx, runner, tenants_copy):
    nayoro = tenants_copy / "nayoro" / "tenant.toml"
    nayoro.write_text(nayoro.read_text(encoding="utf-8").replace("min_length = 8", "min_length = 4"), encoding="utf-8")
    kanazawa = tenants_copy / "kanazawa" / "tenant.toml"
    (tenants_copy / "otaru").mkdir()
    (tenants_copy / "otaru" / "tenant.toml").write_text(
        kanazawa.read_text(encoding="utf-8").replace('slug = "kanazawa"', 'slug = "otaru2"')
        .replace('["kanazawa.localhost"]', '["otaru.localhost", "Kanazawa.Localhost"]'), encoding="utf-8")
    (tenants_copy / "broken").mkdir()
    (tenants_copy / "broken" / "tenant.toml").write_text("slug = [unclosed", encoding="utf-8")
    result = runner.invoke(args=["tenant", "check", "--dir", str(tenants_copy)])
    assert result.exit_code == 1
    assert f"refused: {nayoro}" in result.output
    assert "password_policy.min_length: プラットフォームの下限 8 文字より短くできません" in result.output
    assert f"hosts: {kanazawa} と重複しています: kanazawa.localhost" in result.output
    assert f"ok {kanazawa}" in result.output
    assert "slug: フォルダ名 (otaru) と一致しません: otaru2" in result.output
    assert "tenant.toml: TOML として読めません" in result.output
    assert "4 file(s), 3 refused" in result.output


def test_check_of_an_empty_folder_fails(app_ctx, runner, tmp_path):
    result = runner.invoke(args=["tenant", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "0 file(s), 0 refused" in result.output
