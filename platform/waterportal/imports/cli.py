"""``flask import ...``: load the city's billing-system exports."""
from __future__ import annotations

import click

import_cli = click.Group("import", help="Import billing-system exports (CSV) for one city.")
