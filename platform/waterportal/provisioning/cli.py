"""Vendor CLI: ``flask tenant apply|create|list|add-host|disable|enable|export|check|citus-ddl``."""
from __future__ import annotations

import string
from itertools import groupby
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from waterportal.core.exceptions import SettingsInvalid
from waterportal.extensions import db
from waterportal.provisioning import services
from waterportal.provisioning.privacy import privacy_text
from waterportal.provisioning.services import apply_definition, read_definition
from waterportal.provisioning.toml_writer import toml_string
from waterportal.tenancy.distribution import citus_ddl, primary_key_swap
from waterportal.tenancy.hosts import normalise_host
from waterportal.tenancy.models import Tenant, TenantHost
from waterportal.tenancy.schemas import SLUG

tenant_cli = click.Group("tenant", help="Onboard and manage cities (vendor only).")


def _fail(exc: SettingsInvalid) -> None:
    _report(exc)
    raise SystemExit(1)


def _report(exc: SettingsInvalid) -> None:
    click.echo(f"refused: {exc.source or 'tenant.toml'}", err=True)
    for key, reasons in sorted(exc.errors.items()):
        click.echo(f"  {key}: {'; '.join(reasons)}", err=True)


def apply_directory(directory: Path, stop: bool = True) -> bool:
    """Validate and apply one city folder in its own transaction, then print what changed.

    A refused folder is rolled back and reported; ``stop`` then exits 1 (one city), else
    False is returned so the caller goes on with the next city.
    """
    try:
        definition = read_definition(directory)
        if not stop and db.session.get_bind().dialect.name == "postgresql":
            # Many cities in a row: no flush to disk at each city's commit (a crash may lose
            # the last few, never half of one; the run is idempotent: run it again).
            db.session.execute(text("SET LOCAL synchronous_commit = off"))
        result = apply_definition(definition)
        db.session.commit()
    except SettingsInvalid as exc:
        db.session.rollback()
        if stop:
            _fail(exc)
        _report(exc)
        return False
    except SQLAlchemyError as exc:  # e.g. another process took a host meanwhile
        db.session.rollback()
        if stop:
            raise
        click.echo(f"failed: {directory}: {str(exc).splitlines()[0]}", err=True)
        return False
    slug = result.tenant.slug
    if result.created:
        click.echo(f"created {slug} (version {result.tenant.version})")
    elif result.changes:
        click.echo(f"updated {slug} (version {result.tenant.version}): {', '.join(result.changes)}")
    else:
        click.echo(f"unchanged {slug} (version {result.tenant.version})")
    return True


def city_folders(parent: Path) -> list[Path]:
    """The folders of ``parent`` holding a tenant.toml, by name."""
    return sorted(p for p in parent.iterdir() if (p / "tenant.toml").is_file())


@tenant_cli.command("apply")
@click.argument("directories", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--all", "parent", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Apply every PARENT/*/tenant.toml (e.g. --all tenants/)")
def apply_command(directories: tuple[Path, ...], parent: Path | None) -> None:
    """Create or update the cities defined by DIRECTORY/tenant.toml (idempotent).

    One process, one transaction per city: a refused city is reported and the others are
    still applied. The exit status is the number of refused cities (255 if 255 or more).
    """
    folders = list(directories) + (city_folders(parent) if parent else [])
    if not folders:
        raise click.UsageError("name a city folder, or --all FOLDER")
    if len(folders) == 1:
        apply_directory(folders[0])  # one city: exactly as before (refused: exit 1)
        return
    failed = sum(not apply_directory(folder, stop=False) for folder in folders)
    click.echo(f"{len(folders)} cities, {len(folders) - failed} applied, {failed} refused")
    raise SystemExit(min(failed, 255))


@tenant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="City name, e.g. 旭川市")
@click.option("--host", "hosts", multiple=True, required=True, help="Hostname; repeat for more")
def create_command(slug: str, name: str, hosts: tuple[str, ...]) -> None:
    """Scaffold tenants/SLUG/tenant.toml from the template and apply it."""
    if not SLUG.match(slug):
        raise click.BadParameter("lower-case letters, digits and hyphens, 2-40 characters", param_hint="SLUG")
    try:
        clean = [normalise_host(h) for h in hosts]
    except ValueError as exc:
        raise click.BadParameter(f"not a hostname: {exc}", param_hint="--host") from exc
    directory = Path(current_app.config["TENANTS_DIR"]) / slug
    target = directory / "tenant.toml"
    if target.exists():
        raise click.ClickException(f"{target} exists; edit it and run `flask tenant apply {directory}`")
    template = string.Template((Path(__file__).parent / "scaffold" / "tenant.toml").read_text(encoding="utf-8"))
    directory.mkdir(parents=True)
    (directory / "templates").mkdir()
    (directory / "assets").mkdir()
    target.write_text(
        template.substitute(
            slug=slug, name=name, hosts=", ".join(f'"{h}"' for h in clean), first_host=clean[0],
            privacy=toml_string(privacy_text(name, f"{name}上下水道ポータル")),
        ),
        encoding="utf-8",
    )
    click.echo(f"scaffolded {target}")
    apply_directory(directory)


@tenant_cli.command("list")
def list_command() -> None:
    """List every city with its hosts, login mode and version."""
    # One statement for every city (cities joined to their hosts), not one per city.
    rows = db.session.execute(
        select(Tenant.id, Tenant.slug, Tenant.name, Tenant.settings[("login", "mode")].as_string().label("mode"),
               Tenant.version, Tenant.enabled, TenantHost.host)
        .outerjoin(TenantHost, TenantHost.tenant_id == Tenant.id)
        .order_by(Tenant.slug, TenantHost.id)
    )
    for _, group in groupby(rows, key=lambda row: row.id):
        city = list(group)
        tenant = city[0]
        hosts = ",".join(row.host for row in city if row.host is not None)
        state = "enabled" if tenant.enabled else "disabled"
        click.echo(f"{tenant.slug}\t{tenant.name}\t{hosts}\t{tenant.mode or '?'}\tv{tenant.version}\t{state}")


def _file_note(slug: str, key: str, value, action: str) -> None:
    """Warn when tenants/SLUG/tenant.toml still says otherwise: the next apply would undo it."""
    path = Path(current_app.config["TENANTS_DIR"]) / slug
    try:
        on_file = read_definition(path)[key]
    except SettingsInvalid:
        return
    if (value in on_file) if isinstance(on_file, list) else on_file == value:
        return
    click.echo(
        f"note: {path / 'tenant.toml'} does not say so; record it there (or `flask tenant export {slug}`) "
        f"before the next `tenant apply`, which would {action}", err=True,
    )


def _run(operation) -> bool:
    try:
        changed = operation()
    except SettingsInvalid as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    return changed


@tenant_cli.command("add-host")
@click.argument("slug")
@click.argument("host")
def add_host_command(slug: str, host: str) -> None:
    """Add HOST to city SLUG (refused if another city has it); takes effect without a restart."""
    changed = _run(lambda: services.add_host(slug, host))
    clean = normalise_host(host)
    click.echo(f"{'added' if changed else 'unchanged'} {clean} -> {slug}")
    _file_note(slug, "hosts", clean, "remove it again")


def _toggle(slug: str, enabled: bool) -> None:
    changed = _run(lambda: services.set_enabled(slug, enabled))
    state = "enabled" if enabled else "disabled"
    click.echo(f"{state} {slug}" if changed else f"unchanged {slug} (already {state})")
    _file_note(slug, "enabled", enabled, f"set enabled = {str(not enabled).lower()} again")


@tenant_cli.command("disable")
@click.argument("slug")
def disable_command(slug: str) -> None:
    """Close city SLUG: every page shows its notice page (503); its data is kept."""
    _toggle(slug, False)


@tenant_cli.command("enable")
@click.argument("slug")
def enable_command(slug: str) -> None:
    """Open city SLUG again."""
    _toggle(slug, True)


@tenant_cli.command("export")
@click.argument("slug")
@click.option("--with-overrides", is_flag=True,
              help="Merge the city admin's console overrides (the settings in effect now)")
def export_command(slug: str, with_overrides: bool) -> None:
    """Print city SLUG's definition as tenant.toml (applies back unchanged)."""
    try:
        click.echo(services.export_toml(slug, with_overrides), nl=False)
    except SettingsInvalid as exc:
        _fail(exc)


@tenant_cli.command("check")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The tenants folder (default: TENANTS_DIR)")
def check_command(directory: Path | None) -> None:
    """Validate every tenants/*/tenant.toml; exit 1 naming each refused key and why."""
    results = services.check_definitions(directory or Path(current_app.config["TENANTS_DIR"]))
    bad = 0
    for path, errors in results:
        if not errors:
            click.echo(f"ok {path}")
            continue
        bad += 1
        click.echo(f"refused: {path}", err=True)
        for key, reasons in sorted(errors.items()):
            click.echo(f"  {key}: {'; '.join(reasons)}", err=True)
    click.echo(f"{len(results)} file(s), {bad} refused")
    if bad or not results:
        raise SystemExit(1)


@tenant_cli.command("citus-ddl")
@click.option("--primary-keys-only", is_flag=True, help="Only the PRIMARY KEY (tenant_id, id) swap")
def citus_ddl_command(primary_keys_only: bool) -> None:
    """Print the SQL that distributes the schema by city on a Citus coordinator (run once,
    after `flask db upgrade`, as the tables' owner; docs/operations.md 'Beyond one machine')."""
    try:
        script = citus_ddl(db.metadata)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    if primary_keys_only:
        script = "".join(f"{statement};\n" for statement in primary_key_swap(db.metadata))
    click.echo(script, nl=False)
