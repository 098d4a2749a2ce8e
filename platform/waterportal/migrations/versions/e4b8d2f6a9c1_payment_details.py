"""Payment details and proof, billing cycle per contract (issue 12 §3, §5): bills gain
payment_method, transfer_date, transfer_result (全銀 振替結果コード) and message (通信欄);
contracts gain billing_cycle (NULL: the city's); payment_proofs keeps each issued
収納済証明書 (SHA-256, size, 発行日). City-owned: UNIQUE (tenant_id, id), composite FK to
contracts, row security.

Revision ID: e4b8d2f6a9c1
Revises: c7e2b9d4a1f3
Create Date: 2026-11-27 16:20:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'e4b8d2f6a9c1'
down_revision = 'c7e2b9d4a1f3'
branch_labels = None
depends_on = None

BILL_COLUMNS = (
    ('payment_method', sa.String(length=10)), ('transfer_date', sa.Date()),
    ('transfer_result', sa.String(length=1)), ('message', sa.String(length=200)),
)


def upgrade():
    for name, type_ in BILL_COLUMNS:
        op.add_column('bills', sa.Column(name, type_, nullable=True))
    op.add_column('contracts', sa.Column('billing_cycle', sa.String(length=10), nullable=True))
    op.create_table('payment_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('month_from', sa.String(length=7), nullable=False),
    sa.Column('month_to', sa.String(length=7), nullable=False),
    sa.Column('bills', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'],
                            name=op.f('fk_payment_proofs_tenant_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_proofs_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_proofs')),
    sa.UniqueConstraint('tenant_id', 'contract_id', 'month_from', 'month_to',
                        name=op.f('uq_payment_proofs_tenant_id_contract_id_month_from_month_to')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payment_proofs_tenant_id_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('payment_proofs')
    with op.batch_alter_table('contracts') as batch:
        batch.drop_column('billing_cycle')
    with op.batch_alter_table('bills') as batch:
        for name, _type in BILL_COLUMNS:
            batch.drop_column(name)
