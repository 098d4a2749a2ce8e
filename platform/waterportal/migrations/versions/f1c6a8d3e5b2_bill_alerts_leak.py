"""漏水の可能性 (issue 14 §1): bill_alerts keeps each bill the bills import flagged (one row
per bill and kind, never twice), with the figures it was judged on and when its mail was
queued. City-owned: UNIQUE (tenant_id, id), composite FKs to bills and contracts, row
security. members.notify_leak: the member's choice of the leak mail, on for new members;
existing members start with their bill-mail choice (who turned bill mail off gets no new mail).

Revision ID: f1c6a8d3e5b2
Revises: e7a3c5b9d1f4
Create Date: 2026-11-27 19:30:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'f1c6a8d3e5b2'
down_revision = 'e7a3c5b9d1f4'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN on members (SQLite has both), not a batch: a batch rebuilds members on
# SQLite and would lose its expression index uq_members_tenant_login_id_lower. The server
# default fills the existing rows; the UPDATE then gives them their bill-mail choice.
def upgrade():
    op.add_column('members', sa.Column('notify_leak', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE members SET notify_leak = notify_bills")
    op.create_table('bill_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('usage_m3', sa.Integer(), nullable=False),
    sa.Column('last_year_m3', sa.Integer(), nullable=False),
    sa.Column('usual_m3', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('mailed_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'bill_id'], ['bills.tenant_id', 'bills.id'],
                            name=op.f('fk_bill_alerts_tenant_id_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'],
                            name=op.f('fk_bill_alerts_tenant_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bill_alerts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_alerts')),
    sa.UniqueConstraint('tenant_id', 'bill_id', 'kind', name=op.f('uq_bill_alerts_tenant_id_bill_id_kind')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_bill_alerts_tenant_id_id'))
    )
    op.create_index('ix_bill_alerts_tenant_contract', 'bill_alerts', ['tenant_id', 'contract_id'], unique=False)
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_index('ix_bill_alerts_tenant_contract', table_name='bill_alerts')
    op.drop_table('bill_alerts')
    op.execute('ALTER TABLE members DROP COLUMN notify_leak')
