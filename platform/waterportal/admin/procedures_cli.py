"""``flask procedures ...``: the exchange with the city's billing system and the staff's daily
summary (cron in production; the console offers the export too).

- ``export --tenant SLUG --kind KIND [--since DATE] [--until DATE] [--again] [--out DIR]``
- ``import-status --tenant SLUG FILE``
- ``link-contracts [--tenant SLUG]``
- ``daily-summary [--tenant SLUG]``

It lives with the console (which may import every feature and the imports) because it
joins ``procedures`` (the export, the summary) and ``imports`` (the answer file's reading).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from waterportal.extensions import db
from waterportal.imports.procedure_status import import_status
from waterportal.procedures import export as exporting
from waterportal.procedures import linking, summary
from waterportal.procedures.kinds import ordered
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command, get_registry

procedures_cli = click.Group("procedures", help="各種お手続き: export to and answers from the billing system, daily summary.")

ACTOR = "vendor:cli"


def _date(_ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD", param=param) from exc


@procedures_cli.command("export")
@click.option("--tenant", "slug", required=True, help="City slug, e.g. nayoro")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only this kind (repeat for more; default: every kind, one file each).")
@click.option("--since", callback=_date, help="受付日 from (YYYY-MM-DD, city time, included).")
@click.option("--until", callback=_date, help="受付日 up to (YYYY-MM-DD, city time, included).")
@click.option("--again", is_flag=True, help="Also what was exported before (needs --since and --until).")
@click.option("--out", "outdir", default=".", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder the CSV files are written to.")
def export_command(slug: str, kinds: tuple[str, ...], since: dt.date | None, until: dt.date | None, again: bool,
                   outdir: Path) -> None:
    """Write the city's procedures in 処理中 as CSV, one file per kind, each request once.

    An export of a kind with nothing new writes no file. Exit 1 on bad arguments."""
    tenant = city_for_command(slug)
    known = [kind.key for kind in ordered()]
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise click.BadParameter(f"unknown kind(s) {', '.join(unknown)} (known: {', '.join(known)})", param_hint="--kind")
    if again and (since is None or until is None):
        raise click.UsageError("--again needs --since and --until (the range to write again)")
    if since and until and until < since:
        raise click.UsageError("--until is before --since")
    outdir.mkdir(parents=True, exist_ok=True)
    total = 0
    for key in kinds or known:
        with tenant_context(tenant):
            result = exporting.export_requests(tenant, key, actor=ACTOR, since=since, until=until, again=again)
            if not result.count:
                db.session.rollback()  # nothing to hand over: no file, no stamp, no audit entry
                continue
            path = outdir / result.filename
            # Owner-only (0600): the file holds account numbers in full. A failed write stamps
            # nothing (rolled back below).
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                out.write(result.body)
            try:
                db.session.commit()
            except BaseException:
                path.unlink(missing_ok=True)  # no file without its stamps
                raise
        total += result.count
        extra = f", {result.replaced} character(s) written as 〓" if result.replaced else ""
        click.echo(f"{tenant.slug} {key}: {result.count} request(s) -> {path} ({result.encoding}{extra})")
    if not total:
        click.echo(f"{tenant.slug}: nothing to export")


@procedures_cli.command("import-status")
@click.option("--tenant", "slug", required=True, help="City slug, e.g. nayoro")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_status_command(slug: str, file: Path) -> None:
    """Apply the billing system's answer (receipt_number,status[,message][,customer_number]).
    All or nothing: any problem is listed with its line and nothing changes (exit 1)."""
    tenant = city_for_command(slug)
    with tenant_context(tenant):
        try:
            result = import_status(tenant, file, filename=file.name)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()  # a rejected file commits its audit entry only
    for problem in result.errors:
        click.echo(str(problem), err=True)
    click.echo(f"{tenant.slug} import-status {result.filename} ({result.encoding or '-'}): {result.summary()}")
    if not result.ok:
        raise SystemExit(1)


@procedures_cli.command("link-contracts")
@click.option("--tenant", "slug", default=None, help="Only this city (default: every city)")
def link_contracts_command(slug: str | None) -> None:
    """Link the new contract of every finished 使用開始 to the citizen's account where both
    are in the portal now (run after the nightly contracts import; idempotent)."""
    for tenant in [city_for_command(slug)] if slug else get_registry().all():
        with tenant_context(tenant):
            count = linking.link_started_contracts(tenant)
            db.session.commit()
        click.echo(f"{tenant.slug}: {count} contract(s) linked")


@procedures_cli.command("daily-summary")
@click.option("--tenant", "slug", default=None, help="Only this city (default: every city)")
def daily_summary_command(slug: str | None) -> None:
    """Queue the day's summary mail to the inquiry address of every city that asks for it
    (procedures.daily_summary), once per city and day (idempotent; run from cron)."""
    cities = [city_for_command(slug)] if slug else None
    sent = summary.send_daily_summaries(cities)
    db.session.commit()
    for city_slug, count in sorted(sent.items()):
        click.echo(f"{city_slug}: {'summary queued' if count else 'already sent today'}")
    if not sent:
        click.echo("no city asks for the daily summary")
