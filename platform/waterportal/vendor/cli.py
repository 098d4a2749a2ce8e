"""``flask demo generate|contracts``: demo billing-system exports and the contracts to try."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from waterportal.core.time import local_now
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.registry import get_registry
from waterportal.vendor.demo import (
    DEFAULT_SEED,
    fixed_contracts,
    generate_city,
    write_city,
)
from waterportal.vendor.demo_cities import PROFILES

demo_cli = click.Group("demo", help="Demo data for the demo cities (vendor only).")


def _cities(slugs: tuple[str, ...]) -> list[TenantContext]:
    """The applied cities named (default: every city with a demo profile)."""
    registry = get_registry()
    registry.refresh(force=True)
    cities = []
    for slug in slugs or tuple(PROFILES):
        if slug not in PROFILES:
            raise click.BadParameter(f"no demo profile for {slug!r} (known: {', '.join(PROFILES)})",
                                     param_hint="--tenant")
        tenant = registry.by_slug(slug)
        if tenant is None:
            raise click.ClickException(f"{slug} is not applied yet: run `flask tenant apply tenants/{slug}`")
        cities.append(tenant)
    return cities


@demo_cli.command("generate")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
@click.option("--contracts", default=300, show_default=True, type=click.IntRange(min=2),
              help="Contracts per city (the fixed demo contracts come first).")
@click.option("--months", default=26, show_default=True, type=click.IntRange(min=2),
              help="Months of history, ending with the month before today.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Seed of the random data.")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
def generate_command(slugs: tuple[str, ...], contracts: int, months: int, seed: str, outdir: Path) -> None:
    """Write OUTDIR/<slug>/contracts.csv and bills.csv as each city's billing system would.

    Load them with `flask import contracts --tenant SLUG FILE` and `flask import bills ...`.
    """
    for tenant in _cities(slugs):
        today = local_now(tenant.timezone).date()
        export = generate_city(PROFILES[tenant.slug], tenant.settings, contracts, months, today, seed)
        contracts_path, bills_path = write_city(outdir, export)
        click.echo(f"{tenant.slug}: {len(export.contracts)} contracts -> {contracts_path}, "
                   f"{len(export.bills)} bills -> {bills_path} ({export.encoding})")


@demo_cli.command("contracts")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
def contracts_command(slugs: tuple[str, ...]) -> None:
    """Print the fixed demo contracts with what a tester types to register."""
    for tenant in _cities(slugs):
        base = current_app.config["PORTAL_BASE_URL"].format(host=tenant.primary_host)
        click.echo(f"{tenant.portal_name} {base}/")
        for household in fixed_contracts(PROFILES[tenant.slug]):
            click.echo(f"  お客様番号 {household.customer_number}  電話番号 {household.phone}  "
                       f"お客様氏名カナ {household.holder_name_kana}  ({household.holder_name} {household.address})")
