"""Issue 10: what grows with the number of cities. Loading the host map, listing the cities
and applying many tenant folders cost a constant number of statements (not one per city),
stored effective settings spare the schema at load, and one refused city among many does
not stop the others."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select

from waterportal.core.paths import TENANTS_DIR
from waterportal.extensions import db
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.tenancy import registry as registry_module
from waterportal.tenancy.models import Tenant
from waterportal.tenancy.registry import get_registry


def write_towns(parent: Path, count: int, start: int = 0) -> list[Path]:
    """``count`` city folders made from Nayoro's tenant.toml, each with its own slug and host."""
    source = (TENANTS_DIR / "nayoro" / "tenant.toml").read_text(encoding="utf-8")
    folders = []
    for number in range(start, start + count):
        slug = f"town{number:04d}"
        folder = parent / slug
        folder.mkdir(parents=True)
        text = source.replace('slug = "nayoro"', f'slug = "{slug}"')
        text = text.replace('hosts = ["nayoro.localhost"]', f'hosts = ["{slug}.localhost", "www.{slug}.localhost"]')
        (folder / "tenant.toml").write_text(text, encoding="utf-8")
        folders.append(folder)
    return folders


def add_towns(tmp_path: Path, count: int, start: int = 0) -> None:
    for folder in write_towns(tmp_path / f"towns{start}", count, start):
        apply_definition(read_definition(folder))
    db.session.flush()


@contextmanager
def statements():
    """Count the SQL statements sent while the block runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def load_statements() -> int:
    registry = get_registry()
    with statements() as seen:
        registry.refresh(force=True)
        assert len(registry.all()) >= 3
        assert registry.by_host("nayoro.localhost").slug == "nayoro"
    return len(seen)


def test_loading_the_host_map_costs_the_same_statements_for_3_or_30_cities(app_ctx, tmp_path):
    add_towns(tmp_path, 3)
    few = load_statements()
    add_towns(tmp_path, 27, start=3)
    assert load_statements() == few
    town = get_registry().by_host("www.town0029.localhost")
    assert town.slug == "town0029" and town.primary_host == "town0029.localhost"


def test_loading_validates_no_city_whose_effective_settings_are_stored(app_ctx, tmp_path, monkeypatch):
    add_towns(tmp_path, 5)
    calls = []
    original = registry_module.effective_settings
    monkeypatch.setattr(registry_module, "effective_settings", lambda *a: calls.append(a) or original(*a))
    registry = get_registry()
    registry.refresh(force=True)
    contexts = registry.all()
    assert len(contexts) == 7 and calls == []
    assert registry.by_slug("town0003").settings["login"]["mode"] == "email"
    # A row changed by any other path no longer matches its record: validated, not trusted.
    row = db.session.scalar(select(Tenant).where(Tenant.slug == "town0003"))
    row.settings = {**row.settings, "notices": {"new_badge_days": 3}}
    row.version += 1
    db.session.flush()
    assert registry.by_slug("town0003").settings["notices"]["new_badge_days"] == 3
    assert len(calls) == 1


def test_a_reload_rebuilds_only_the_cities_that_changed(app_ctx, runner, tmp_path):
    add_towns(tmp_path, 3)
    registry = get_registry()
    registry.refresh(force=True)
    before = {t.slug: t for t in registry.all()}
    assert runner.invoke(args=["tenant", "disable", "town0001"]).exit_code == 0
    after = {t.slug: t for t in registry.all()}
    assert after["town0001"] is not before["town0001"] and not after["town0001"].enabled
    assert all(after[slug] is before[slug] for slug in before if slug != "town0001")


def test_tenant_list_is_one_statement_whatever_the_number_of_cities(app_ctx, runner, tmp_path):
    def listed() -> tuple[int, list[str]]:
        with statements() as seen:
            result = runner.invoke(args=["tenant", "list"])
        assert result.exit_code == 0, result.output
        return len(seen), result.output.splitlines()

    add_towns(tmp_path, 3)
    few, lines = listed()
    add_towns(tmp_path, 27, start=3)
    many, lines = listed()
    assert many == few <= 2  # the list, and at most the registry's stamp around the command
    assert len(lines) == 32
    assert "town0029\t名寄市\ttown0029.localhost,www.town0029.localhost\temail\tv1\tenabled" in lines


def test_apply_many_goes_past_a_refused_city_and_exits_with_the_count(app_ctx, runner, tmp_path):
    folders = write_towns(tmp_path, 4)
    for broken in (folders[1], folders[3]):
        toml = broken / "tenant.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace("min_length = 8", "min_length = 4"), encoding="utf-8")
    result = runner.invoke(args=["tenant", "apply", "--all", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines() == [
        "created town0000 (version 1)", "created town0002 (version 1)", "4 cities, 2 applied, 2 refused"]
    assert result.stderr.count("refused: ") == 2 and f"refused: {folders[1] / 'tenant.toml'}" in result.stderr
    slugs = set(db.session.scalars(select(Tenant.slug)))
    assert {"town0000", "town0002"} <= slugs and not {"town0001", "town0003"} & slugs
    # Folders named one by one, and again: unchanged, exit 0.
    again = runner.invoke(args=["tenant", "apply", str(folders[0]), str(folders[2]), str(TENANTS_DIR / "nayoro")])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "3 cities, 3 applied, 0 refused"


def test_apply_many_refuses_the_second_city_claiming_a_host(app_ctx, runner, tmp_path):
    first, second = write_towns(tmp_path, 2)
    toml = second / "tenant.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"town0001.localhost"', '"town0000.localhost"'),
                    encoding="utf-8")
    result = runner.invoke(args=["tenant", "apply", str(first), str(second)])
    assert result.exit_code == 1
    assert "他の市町村が使用中のホストです: town0000.localhost" in result.stderr


def test_apply_without_a_folder_is_a_usage_error(runner):
    assert runner.invoke(args=["tenant", "apply"]).exit_code == 2


def test_the_repository_cities_apply_with_all(app_ctx, runner):
    result = runner.invoke(args=["tenant", "apply", "--all", str(TENANTS_DIR)])
    assert result.exit_code == 0, result.output
    assert "unchanged nayoro (version 1)" in result.stdout and "unchanged kanazawa (version 1)" in result.stdout
