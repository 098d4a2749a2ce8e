"""``flask staff create|list``: vendor onboarding of city staff."""
from __future__ import annotations

import click

from waterportal.admin.models import ROLES
from waterportal.admin.staff import services as staff_svc
from waterportal.extensions import db
from waterportal.mail.services import portal_url
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command

staff_cli = click.Group("staff", help="City staff accounts of the console (vendor only).")


@staff_cli.command("create")
@click.option("--tenant", "slug", required=True, help="City slug, e.g. kanazawa")
@click.argument("email")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True, help="admin: everything; operator: read only")
@click.option("--name", default="", help="Display name (氏名)")
@click.option("--password", default=None, help="Set this password instead of a generated one-time password")
@click.option("--prompt", "ask", is_flag=True, help="Type the password (hidden) instead of generating one")
def create_command(slug: str, email: str, role: str, name: str, password: str | None, ask: bool) -> None:
    """Create a staff member of a city; print the one-time password when one is generated."""
    tenant = city_for_command(slug)
    if ask and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with tenant_context(tenant):
        try:
            staff, generated = staff_svc.create_staff(tenant, email, role, name, password, actor="vendor:cli")
        except staff_svc.StaffError as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        db.session.commit()
        click.echo(f"created staff:{staff.id} {staff.email} ({staff.role}) in {tenant.slug}")
        if generated:
            click.echo(f"one-time password (shown once; must be changed at first login): {generated}")
        click.echo(f"console: {portal_url(tenant, '/admin/login')}")


@staff_cli.command("list")
@click.option("--tenant", "slug", required=True, help="City slug")
def list_command(slug: str) -> None:
    """List a city's staff."""
    tenant = city_for_command(slug)
    with tenant_context(tenant):
        for staff in staff_svc.list_staff():
            flags = " ".join(f for f, on in (("disabled", staff.disabled), ("totp", bool(staff.totp_secret))) if on)
            click.echo(f"staff:{staff.id}\t{staff.email}\t{staff.role}\t{flags}")
