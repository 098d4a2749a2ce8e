"""同じ人数の世帯の平均 (issue 14 §2): contracts gain persons (世帯人数 from the contracts
import; NULL: not known); household_medians keeps the city's median usage per billing month,
cycle and household size (city-owned: UNIQUE (tenant_id, id), row security); bills gain an
index on (tenant_id, billing_month) for the import's set-wise median of a month.

Revision ID: b4e7c2a9d5f0
Revises: f1c6a8d3e5b2
Create Date: 2026-11-27 19:10:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'b4e7c2a9d5f0'
down_revision = 'f1c6a8d3e5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('contracts', sa.Column('persons', sa.Integer(), nullable=True))
    op.create_index('ix_bills_tenant_month', 'bills', ['tenant_id', 'billing_month'], unique=False)
    op.create_table('household_medians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('billing_month', sa.String(length=7), nullable=False),
    sa.Column('cycle', sa.String(length=10), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('median_m3', sa.Float(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_medians_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_medians')),
    sa.UniqueConstraint('tenant_id', 'billing_month', 'cycle', 'persons',
                        name=op.f('uq_household_medians_tenant_id_billing_month_cycle_persons')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_household_medians_tenant_id_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('household_medians')
    op.drop_index('ix_bills_tenant_month', table_name='bills')
    with op.batch_alter_table('contracts') as batch:
        batch.drop_column('persons')
