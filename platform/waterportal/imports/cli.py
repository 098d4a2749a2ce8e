"""``flask import ...``: load the city's billing-system exports."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from waterportal.extensions import db
from waterportal.imports.documents import import_documents
from waterportal.imports.payment_results import import_payments
from waterportal.imports.readings import import_readings
from waterportal.imports.services import (
    ImportResult,
    ProgressCallback,
    import_bills,
    import_contracts,
)
from waterportal.tenancy.context import tenant_context
from waterportal.tenancy.registry import city_for_command

import_cli = click.Group("import", help="Import billing-system exports (CSV) for one city.")

LABELS = {"validate": "validating", "write": "writing"}


class _Bars:
    """One click progress bar per phase, drawn only when stdout is a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.phase = ""
        self.done = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.bar = click.progressbar(length=total, label=LABELS.get(phase, phase), file=sys.stdout)
            self.bar.__enter__()
            self.phase, self.done = phase, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _run(kind: str, service: Callable[..., ImportResult], slug: str, path: Path) -> None:
    tenant = city_for_command(slug)
    bars = _Bars() if sys.stdout.isatty() else None
    progress: ProgressCallback | None = bars
    try:
        with tenant_context(tenant):
            result = service(tenant, path, filename=path.name, actor="vendor:cli", progress=progress)
        db.session.commit()  # a rejected file commits its ImportBatch row only
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if bars:
            bars.close()
    for problem in result.errors:
        click.echo(str(problem), err=True)
    click.echo(f"{tenant.slug} {kind} {result.status}: {result.summary()} batch={result.batch_id}")
    if not result.ok:
        raise SystemExit(1)


TENANT = click.option("--tenant", "slug", required=True, help="City slug, e.g. nayoro")
FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@import_cli.command("contracts")
@TENANT
@FILE
def contracts_command(slug: str, file: Path) -> None:
    """Import a contracts CSV (upsert on customer_number). Exit 1 if the file is rejected."""
    _run("contracts", import_contracts, slug, file)


@import_cli.command("documents")
@TENANT
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def documents_command(slug: str, directory: Path) -> None:
    """Import DIRECTORY/documents.csv (customer_number,title,issued_on,file) and its files. Exit 1 if rejected."""
    _run("documents", import_documents, slug, directory)


@import_cli.command("bills")
@TENANT
@FILE
def bills_command(slug: str, file: Path) -> None:
    """Import a bills CSV (upsert on customer_number + billing_month). Exit 1 if rejected."""
    _run("bills", import_bills, slug, file)


@import_cli.command("readings")
@TENANT
@FILE
def readings_command(slug: str, file: Path) -> None:
    """Import daily meter readings (customer_number,reading_date,usage_m3; upsert on contract + day). Exit 1 if rejected."""
    _run("readings", import_readings, slug, file)


@import_cli.command("payments")
@TENANT
@FILE
def payments_command(slug: str, file: Path) -> None:
    """Mark bills paid from a collector's payment results (customer_number,billing_month,paid_on,channel)."""
    tenant = city_for_command(slug)
    with tenant_context(tenant):
        result = import_payments(tenant, file, filename=file.name, actor="vendor:cli")
        db.session.commit()  # a rejected file commits its audit entry only
    for problem in result.errors:
        click.echo(str(problem), err=True)
    click.echo(f"{tenant.slug} payments {'ok' if result.ok else 'rejected'}: {result.summary()}")
    if not result.ok:
        raise SystemExit(1)

