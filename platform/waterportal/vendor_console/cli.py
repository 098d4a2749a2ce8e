"""``flask vendor create-staff|list-staff|totp|disable-staff``: the vendor console's accounts."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from waterportal.core import qr
from waterportal.core.auth import second_factor
from waterportal.extensions import db
from waterportal.vendor_console import auth
from waterportal.vendor_console.models import VendorStaff

vendor_cli = click.Group("vendor", help="Vendor console accounts (platform operators only).")


def _find(email: str) -> VendorStaff:
    vendor = auth.find_vendor(email)
    if vendor is None:
        raise click.ClickException(f"no vendor staff {email!r} (see `flask vendor list-staff`)")
    return vendor


def console_url() -> str:
    """Where the vendor console answers (the first of VENDOR_HOSTS)."""
    hosts = current_app.config.get("VENDOR_HOSTS") or ["vendor.localhost"]
    return current_app.config["PORTAL_BASE_URL"].format(host=hosts[0]) + "/"


@vendor_cli.command("create-staff")
@click.argument("email")
@click.option("--name", default="", help="Display name")
@click.option("--password", default=None, help="The password (default: asked for, hidden)")
def create_staff_command(email: str, name: str, password: str | None) -> None:
    """Create a vendor staff member (the platform's strongest password policy)."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        vendor = auth.create_vendor_staff(email, password, name)
    except auth.VendorError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created vendor:{vendor.id} {vendor.email}")
    click.echo(f"console: {console_url()}")


@vendor_cli.command("list-staff")
def list_staff_command() -> None:
    """List vendor staff."""
    for vendor in db.session.scalars(select(VendorStaff).order_by(VendorStaff.email)):
        flags = " ".join(f for f, on in (("disabled", vendor.disabled), ("totp", bool(vendor.totp_secret))) if on)
        click.echo(f"vendor:{vendor.id}\t{vendor.email}\t{vendor.name}\t{flags}".rstrip())


@vendor_cli.command("unlock")
@click.argument("email")
def unlock_command(email: str) -> None:
    """Lift the login slowdown others' failures put on a vendor account's new browsers
    (vendors belong to no city, so no unlock mail; their known browsers are never slowed)."""
    vendor = _find(email)
    auth.lift_slowdown(vendor)
    click.echo(f"login slowdown lifted for vendor:{vendor.id} {vendor.email}")


@vendor_cli.command("totp")
@click.argument("email")
def totp_command(email: str) -> None:
    """Turn on the second factor: shows a QR code and the key for the authenticator app, asks for its code."""
    vendor = _find(email)
    secret = second_factor.new_totp_secret()
    uri = second_factor.provisioning_uri(secret, vendor.email, "上下水道ポータル ベンダー")
    click.echo("Scan with the authenticator app:")
    click.echo(qr.terminal(uri))
    click.echo(uri)
    click.echo(f"key (manual entry): {secret}")
    code = click.prompt("Code shown by the app")
    try:
        auth.enable_totp(vendor, secret, code)
    except auth.VendorError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"second factor on for {vendor.email}")


@vendor_cli.command("disable-staff")
@click.argument("email")
def disable_staff_command(email: str) -> None:
    """Disable a vendor staff member: their sessions end, their city links stop working."""
    vendor = _find(email)
    ended = auth.disable_vendor_staff(vendor)
    db.session.commit()
    click.echo(f"disabled vendor:{vendor.id} {vendor.email} ({ended} city console session(s) ended)")
