"""``flask notices mail-due``: hand the published お知らせ that ask for mail to the outbox worker
(cron in production: a notice scheduled for later is mailed when this runs after its time)."""
from __future__ import annotations

import click

from waterportal.core.time import utcnow
from waterportal.extensions import db
from waterportal.notices.services import mail_due_notices
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command, get_registry

notices_cli = click.Group("notices", help="お知らせ jobs.")


@notices_cli.command("mail-due")
@click.option("--tenant", "slug", default=None, help="Only this city (default: every city)")
def mail_due_command(slug: str | None) -> None:
    """Hand published notices that ask for mail and were not mailed yet to the outbox worker
    (idempotent; run from cron)."""
    tenants = [city_for_command(slug)] if slug else get_registry().all()
    now = utcnow()
    for tenant in tenants:
        with tenant_context(tenant):
            count = mail_due_notices(tenant, now)
            db.session.commit()
        click.echo(f"{tenant.slug}: {count} notice(s) handed to the outbox worker")
