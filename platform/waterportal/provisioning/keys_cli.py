"""``flask keys generate|rotate``: the key ring of the second factor's secrets (docs/operations.md)."""
from __future__ import annotations

import click

from waterportal.core.auth import secret_box
from waterportal.extensions import db
from waterportal.provisioning.keys import rotate_totp_keys

keys_cli = click.Group("keys", help="Encryption keys of the staff's and vendor's TOTP secrets (vendor only).")


@keys_cli.command("generate")
def generate_command() -> None:
    """Print a new key: put it first in FLASK_TOTP_ENCRYPTION_KEYS, then run `flask keys rotate`."""
    click.echo(secret_box.generate_key())


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored TOTP secret under the newest key (first of FLASK_TOTP_ENCRYPTION_KEYS).

    One transaction: either every secret is re-encrypted or none is. Afterwards the older
    keys can be removed from the setting.
    """
    try:
        result = rotate_totp_keys()
    except secret_box.SealError as exc:
        db.session.rollback()
        raise click.ClickException(
            f"{exc}: keep every key still in use in FLASK_TOTP_ENCRYPTION_KEYS (nothing was changed)"
        ) from None
    db.session.commit()
    for table, count in sorted(result.per_table.items()):
        click.echo(f"{table}: {count} re-encrypted")
    for slug, count in result.per_city.items():
        click.echo(f"  {slug}: {count}")
    click.echo(f"total: {result.total} secret(s) under the newest key")
