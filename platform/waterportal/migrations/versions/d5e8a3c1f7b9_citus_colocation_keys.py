"""Citus co-location readiness (issue 10): every city-owned table gets UNIQUE (tenant_id, id),
and the two unique keys without tenant_id (registration_drafts.token_hash,
vendor_city_links.key_hash) become unique in their city. The last step, PRIMARY KEY (id) ->
PRIMARY KEY (tenant_id, id) and create_distributed_table, is a Citus deployment's alone:
``flask tenant citus-ddl`` (waterportal/tenancy/distribution.py).

No table changes owner or gains a tenant_id column, so the row security of a7c41e9d2f60 stays
as it is (ALTER TABLE keeps a table's policies and triggers). On SQLite the batch mode
rebuilds each table; none of them is the target of a foreign key.

Revision ID: d5e8a3c1f7b9
Revises: fbe75b49da7f
Create Date: 2026-11-27 15:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e8a3c1f7b9'
down_revision = 'fbe75b49da7f'
branch_labels = None
depends_on = None

# The city-owned tables that had no (tenant_id, id) key yet.
TABLES = (
    'audit_log', 'import_batches', 'inquiries', 'mail_outbox', 'member_contracts', 'member_sessions',
    'member_unlock_links', 'notices', 'settings_revisions', 'staff_sessions', 'staff_unlock_links',
    'tenant_assets', 'vendor_city_links', 'verification_codes',
)
# Unique keys that gain tenant_id: (table, column).
CITY_UNIQUE = (('registration_drafts', 'token_hash'), ('vendor_city_links', 'key_hash'))


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_tenant_id_id'), ['tenant_id', 'id'])
    for table, column in CITY_UNIQUE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_{column}'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_tenant_id_{column}'), ['tenant_id', column])


def downgrade():
    for table, column in CITY_UNIQUE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_tenant_id_{column}'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_{column}'), [column])
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_tenant_id_id'), type_='unique')
