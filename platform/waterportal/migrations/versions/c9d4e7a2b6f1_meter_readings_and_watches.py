"""Daily meter readings (smart meters) and 見守り (issue 14 §6): meter_readings, one row per
city, contract and day (usage in litres), and watches, a member's family address mailed when
a contract shows no use for a number of days. City-owned: UNIQUE (tenant_id, id), row security.

Revision ID: c9d4e7a2b6f1
Revises: a5e9c3d7b2f8
Create Date: 2026-11-27 19:00:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'c9d4e7a2b6f1'
down_revision = 'a5e9c3d7b2f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meter_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('reading_date', sa.Date(), nullable=False),
    sa.Column('usage_litres', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('usage_litres >= 0', name=op.f('ck_meter_readings_usage_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'], name=op.f('fk_meter_readings_tenant_id_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meter_readings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_readings')),
    sa.UniqueConstraint('tenant_id', 'contract_id', 'reading_date', name=op.f('uq_meter_readings_tenant_id_contract_id_reading_date')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_meter_readings_tenant_id_id'))
    )
    op.create_table('watches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('alerted_last_use', sa.Date(), nullable=True),
    sa.Column('alerted_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('days BETWEEN 1 AND 7', name=op.f('ck_watches_days_in_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'], name=op.f('fk_watches_tenant_id_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_watches_tenant_id_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_watches_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watches')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_watches_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'member_id', name=op.f('uq_watches_tenant_id_member_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('watches')
    op.drop_table('meter_readings')
