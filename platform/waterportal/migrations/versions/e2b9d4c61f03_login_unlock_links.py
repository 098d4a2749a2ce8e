"""Mailed unlock links of members and city staff (issue 9 #2): only the SHA-256 of each
link's key is stored, with its expiry and when it was used (core/auth/unlock.py).

Revision ID: e2b9d4c61f03
Revises: 5d1e0c7a9b21
Create Date: 2026-11-18 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'e2b9d4c61f03'
down_revision = '5d1e0c7a9b21'
branch_labels = None
depends_on = None

# table -> (account column, account table)
TABLES = {
    'member_unlock_links': ('member_id', 'members'),
    'staff_unlock_links': ('staff_id', 'staff_members'),
}


def upgrade():
    for table, (account, accounts) in TABLES.items():
        op.create_table(table,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(account, sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id', account], [f'{accounts}.tenant_id', f'{accounts}.id'],
                                name=op.f(f'fk_{table}_tenant_id_{account}_{accounts}'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
        sa.UniqueConstraint('tenant_id', 'key_hash', name=op.f(f'uq_{table}_tenant_id_key_hash'))
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_tenant_{account.removesuffix('_id')}", ['tenant_id', account],
                                  unique=False)
    # City-owned tables: the tenant policy (a no-op on SQLite).
    apply_row_security(op.get_bind())


def downgrade():
    for table, (account, _accounts) in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_tenant_{account.removesuffix('_id')}")
        op.drop_table(table)
