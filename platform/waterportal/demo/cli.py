"""``flask demo generate|members|contracts``: demo exports, ready-made members, what to type."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from waterportal.core.time import local_now, utcnow_naive
from waterportal.demo.alerts import seed_area_alert
from waterportal.demo.cities import PROFILES
from waterportal.demo.exports import (
    DEFAULT_SEED,
    fixed_contracts,
    generate_city,
    write_city,
)
from waterportal.demo.members import DEMO_MEMBERS, DemoMember, ensure_demo_certificate, ensure_demo_member
from waterportal.demo.procedures import seed_procedures
from waterportal.demo.readings import write_readings
from waterportal.demo.staff import DEMO_STAFF, ensure_demo_staff
from waterportal.extensions import db
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.registry import get_registry
from waterportal.vendor_console.cli import console_url

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
    """Write OUTDIR/<slug>/contracts.csv, bills.csv and readings.csv as each city's systems would.

    Load them with `flask import contracts --tenant SLUG FILE` and `flask import bills ...`.
    """
    for tenant in _cities(slugs):
        today = local_now(tenant.timezone).date()
        export = generate_city(PROFILES[tenant.slug], tenant.settings, contracts, months, today, seed)
        contracts_path, bills_path = write_city(outdir, export)
        click.echo(f"{tenant.slug}: {len(export.contracts)} contracts -> {contracts_path}, "
                   f"{len(export.bills)} bills -> {bills_path} ({export.encoding})")
        readings_path = write_readings(outdir, tenant.slug, export.encoding, today, seed)
        if readings_path is not None:
            click.echo(f"{tenant.slug}: daily readings of the demo smart meter -> {readings_path}")


def _login_line(member: DemoMember) -> str:
    who = f"ログインID {member.login_id}" if member.login_id else f"メールアドレス {member.email}"
    answer = f"  秘密の質問 {member.secret_question} {member.secret_answer}" if member.secret_question else ""
    return f"{who}  パスワード {member.password}{answer}  (お客様番号 {', '.join(member.customer_numbers)})"


@demo_cli.command("members")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
def members_command(slugs: tuple[str, ...]) -> None:
    """Create each city's ready-made demo member (once; data visible at once)."""
    for tenant in _cities(slugs):
        try:
            member, created = ensure_demo_member(tenant, local_now(tenant.timezone).date())
        except LookupError as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc} (run `flask import contracts` first)") from exc
        certificate = ensure_demo_certificate(tenant, utcnow_naive())
        db.session.commit()
        click.echo(f"{tenant.slug}: demo member {'created' if created else 'unchanged'}: {_login_line(member)}")
        if certificate is not None:
            click.echo(f"{tenant.slug}: 収納済証明書 {certificate.month_from} ({certificate.filename}, SHA-256 "
                       f"{certificate.sha256[:12]}…)")


@demo_cli.command("contracts")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
def contracts_command(slugs: tuple[str, ...]) -> None:
    """Print the fixed demo contracts (what a tester types to register) and the demo logins."""
    for tenant in _cities(slugs):
        base = current_app.config["PORTAL_BASE_URL"].format(host=tenant.primary_host)
        click.echo(f"{tenant.portal_name} {base}/")
        for household in fixed_contracts(PROFILES[tenant.slug]):
            click.echo(f"  お客様番号 {household.customer_number}  電話番号 {household.phone}  "
                       f"お客様氏名カナ {household.holder_name_kana}  ({household.holder_name} {household.address})")
        click.echo(f"  デモ会員 (すぐに照会できます): {_login_line(DEMO_MEMBERS[tenant.slug])}")


@demo_cli.command("staff")
def staff_command() -> None:
    """Create the demo console accounts (city admins and operators, a vendor staff member) once."""
    get_registry().refresh(force=True)
    for account in DEMO_STAFF:
        try:
            created = ensure_demo_staff(account)
        except LookupError as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc}: run `flask tenant apply tenants/{account.city}` first") from exc
        db.session.commit()
        if account.city is None:
            where = console_url()
        else:
            base = current_app.config["PORTAL_BASE_URL"].format(host=get_registry().by_slug(account.city).primary_host)
            where = f"{base}/admin/"
        state = "created" if created else "unchanged"
        role = account.role if account.city else "vendor"
        click.echo(f"{where}  {account.email}  パスワード {account.password}  ({role}, {state})")


@demo_cli.command("procedures")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
def procedures_command(slugs: tuple[str, ...]) -> None:
    """File a few 各種お手続き in several states per city (once: a city with requests is left alone)."""
    for tenant in _cities(slugs):
        filed = seed_procedures(tenant, local_now(tenant.timezone).date())
        db.session.commit()
        click.echo(f"{tenant.slug}: {len(filed)} demo procedure(s) filed" + (f" ({', '.join(filed)})" if filed else
                                                                          " (the city has requests already)"))


@demo_cli.command("alerts")
@click.option("--tenant", "slugs", multiple=True, metavar="SLUG", help="Only this city; repeat for more.")
def alerts_command(slugs: tuple[str, ...]) -> None:
    """Publish one area alert (断水・濁水) per city on the demo member's street (once)."""
    for tenant in _cities(slugs):
        alert = seed_area_alert(tenant, utcnow_naive())
        # Read before the commit: afterwards the row is expired, and outside its city row
        # security (PostgreSQL) would not let it be read again.
        line = (f"area alert 「{alert.title}」: {alert.matched_contracts} contract(s), {alert.matched_members} "
                "member(s); the outbox worker mails them") if alert else "the city has area alerts already"
        db.session.commit()
        click.echo(f"{tenant.slug}: {line}")
