"""TOTP secrets encrypted at rest: the column widens to hold a Fernet token, and the
secrets stored in plain text before are sealed under the newest TOTP_ENCRYPTION_KEYS key.

Revision ID: c3f8a1d2e4b7
Revises: 78e6e28d7046
Create Date: 2026-11-27 12:00:00

`flask db upgrade` runs inside the app (Flask-Migrate), so the key ring is configured here
as everywhere: production cannot reach this point without FLASK_TOTP_ENCRYPTION_KEYS.
`flask keys rotate` also seals any plain secret it finds (e.g. written by an old process
still running during the upgrade).
"""
import sqlalchemy as sa
from alembic import op

from waterportal.core.auth import secret_box

# revision identifiers, used by Alembic.
revision = 'c3f8a1d2e4b7'
down_revision = '78e6e28d7046'
branch_labels = None
depends_on = None

TABLES = ("staff_members", "vendor_staff")


def _rewrite(table_name, convert):
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.id, table.c.totp_secret).where(table.c.totp_secret.is_not(None))).all()
    params = [{"row_id": row.id, "value": convert(row.totp_secret)} for row in rows]
    if params:
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(totp_secret=sa.bindparam("value")),
            params,
        )


def _seal(value):
    return secret_box.seal(value) if secret_box.is_plaintext(value) else value


def _unseal(value):
    return value if secret_box.is_plaintext(value) else secret_box.unseal(value)


def upgrade():
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                                  existing_nullable=True)
        _rewrite(name, _seal)


def downgrade():
    for name in TABLES:
        _rewrite(name, _unseal)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                                  existing_nullable=True)
