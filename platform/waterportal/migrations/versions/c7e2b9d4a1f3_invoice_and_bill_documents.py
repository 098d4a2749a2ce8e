"""適格請求書 and documents issued once (issue 12): bills gain holder_name and the tax per
rate (taxable_10, tax_10, taxable_8, tax_8; NULL where the import had no such column), and
bill_documents keeps each issued version of a bill's PDF (SHA-256, size, 発行日). City-owned:
UNIQUE (tenant_id, id), composite FKs to bills and contracts, row security.

Revision ID: c7e2b9d4a1f3
Revises: a3d9c5e1b7f4
Create Date: 2026-11-27 16:00:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'c7e2b9d4a1f3'
down_revision = 'a3d9c5e1b7f4'
branch_labels = None
depends_on = None

BILL_COLUMNS = ('holder_name', 'taxable_10', 'tax_10', 'taxable_8', 'tax_8')


def upgrade():
    op.add_column('bills', sa.Column('holder_name', sa.String(length=100), nullable=True))
    for name in BILL_COLUMNS[1:]:
        op.add_column('bills', sa.Column(name, sa.Integer(), nullable=True))
    op.create_table('bill_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('billing_month', sa.String(length=7), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('issuers', sa.String(length=500), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'bill_id'], ['bills.tenant_id', 'bills.id'],
                            name=op.f('fk_bill_documents_tenant_id_bills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'],
                            name=op.f('fk_bill_documents_tenant_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_bill_documents_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_documents')),
    sa.UniqueConstraint('tenant_id', 'bill_id', 'version', name=op.f('uq_bill_documents_tenant_id_bill_id_version')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_bill_documents_tenant_id_id'))
    )
    op.create_index('ix_bill_documents_contract', 'bill_documents', ['tenant_id', 'contract_id', 'issued_on'],
                    unique=False)
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_index('ix_bill_documents_contract', table_name='bill_documents')
    op.drop_table('bill_documents')
    with op.batch_alter_table('bills') as batch:
        for name in BILL_COLUMNS:
            batch.drop_column(name)
