"""``flask readings watch``: the daily 見守り check, for a day without a readings import."""
from __future__ import annotations

import click

from waterportal.extensions import db
from waterportal.readings.watch import record_watch_check
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command, get_registry

readings_cli = click.Group("readings", help="Daily meter readings (smart meters) and 見守り.")


@readings_cli.command("watch")
@click.option("--tenant", "slug", default=None, help="City slug; every city when left out")
def watch_command(slug: str | None) -> None:
    """Record the 見守り check (one job per city) for the outbox worker, e.g. from cron each morning.

    A readings import records it too; a check with nothing new mails nobody (once per episode)."""
    cities = [city_for_command(slug)] if slug else get_registry().all()
    for city in cities:
        with tenant_context(city):
            job = record_watch_check(city)
            click.echo(f"{city.slug} watch check recorded: job={job}")
    db.session.commit()
