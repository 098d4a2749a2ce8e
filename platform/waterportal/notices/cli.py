"""``flask notices mail-due``: mail the published お知らせ that ask for mail (cron in production)."""
from __future__ import annotations

import click

from waterportal.core.time import utcnow
from waterportal.extensions import db
from waterportal.notices.services import mail_due_notices
from waterportal.tenancy.context import TenantContext, tenant_context
from waterportal.tenancy.registry import get_registry

notices_cli = click.Group("notices", help="お知らせ jobs.")


def _tenant(slug: str) -> TenantContext:
    tenant = get_registry().by_slug(slug)
    if tenant is None:
        raise click.BadParameter(f"no city {slug!r}", param_hint="--tenant")
    return tenant


@notices_cli.command("mail-due")
@click.option("--tenant", "slug", default=None, help="Only this city (default: every city)")
def mail_due_command(slug: str | None) -> None:
    """Mail published notices that ask for mail and were not mailed yet (idempotent; run from cron)."""
    tenants = [_tenant(slug)] if slug else get_registry().all()
    now = utcnow()
    for tenant in tenants:
        with tenant_context(tenant):
            count = mail_due_notices(tenant, now)
            db.session.commit()
        click.echo(f"{tenant.slug}: {count} mail(s) queued")
