"""各種お手続き: procedure_daily_summaries, one row per city and city-local day, so the daily
summary mail (flask procedures daily-summary) is sent once. City-owned: UNIQUE (tenant_id,
id), row security.

Revision ID: a3d9c5e1b7f4
Revises: d5e8a3c1f7b9
Create Date: 2026-11-27 16:10:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'a3d9c5e1b7f4'
down_revision = 'd5e8a3c1f7b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('procedure_daily_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_daily_summaries_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_daily_summaries')),
    sa.UniqueConstraint('tenant_id', 'day', name=op.f('uq_procedure_daily_summaries_tenant_id_day')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_procedure_daily_summaries_tenant_id_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('procedure_daily_summaries')
