"""各種お手続き (issue 11): procedure_requests, their events and attachments, and the per-city,
per-year counter of 受付番号. Every table is city-owned: UNIQUE (tenant_id, id), composite
foreign keys, row security.

Revision ID: fbe75b49da7f
Revises: f4a6c2e8b1d3
Create Date: 2026-11-27 15:45:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'fbe75b49da7f'
down_revision = 'f4a6c2e8b1d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('procedure_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_counters')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_procedure_counters_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'year', name=op.f('uq_procedure_counters_tenant_id_year'))
    )
    op.create_table('procedure_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('receipt_number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('customer_number', sa.String(length=20), nullable=False),
    sa.Column('applicant_email', sa.String(length=254), nullable=False),
    sa.Column('applicant_name', sa.String(length=100), nullable=False),
    sa.Column('applicant_kana', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(), nullable=True),
    sa.Column('export_batch', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'assignee_id'], ['staff_members.tenant_id', 'staff_members.id'], name=op.f('fk_procedure_requests_tenant_id_assignee_id_staff_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'contract_id'], ['contracts.tenant_id', 'contracts.id'], name=op.f('fk_procedure_requests_tenant_id_contract_id_contracts')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_procedure_requests_tenant_id_member_id_members')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_requests_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_requests')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_procedure_requests_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'receipt_number', name=op.f('uq_procedure_requests_tenant_id_receipt_number'))
    )
    with op.batch_alter_table('procedure_requests', schema=None) as batch_op:
        batch_op.create_index('ix_procedure_requests_tenant_exported', ['tenant_id', 'exported_at'], unique=False)
        batch_op.create_index('ix_procedure_requests_tenant_fingerprint', ['tenant_id', 'fingerprint'], unique=False)
        batch_op.create_index('ix_procedure_requests_tenant_member', ['tenant_id', 'member_id'], unique=False)
        batch_op.create_index('ix_procedure_requests_tenant_status_created', ['tenant_id', 'status', 'created_at'], unique=False)

    op.create_table('procedure_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['procedure_requests.tenant_id', 'procedure_requests.id'], name=op.f('fk_procedure_attachments_tenant_id_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_attachments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_attachments')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_procedure_attachments_tenant_id_id'))
    )
    with op.batch_alter_table('procedure_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_procedure_attachments_tenant_request', ['tenant_id', 'request_id'], unique=False)

    op.create_table('procedure_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['procedure_requests.tenant_id', 'procedure_requests.id'], name=op.f('fk_procedure_events_tenant_id_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_procedure_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_events')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_procedure_events_tenant_id_id'))
    )
    with op.batch_alter_table('procedure_events', schema=None) as batch_op:
        batch_op.create_index('ix_procedure_events_tenant_request', ['tenant_id', 'request_id', 'id'], unique=False)
    # City-owned tables: the tenant policy and the roles' grants (a no-op on SQLite).
    apply_row_security(op.get_bind())


def downgrade():
    with op.batch_alter_table('procedure_events', schema=None) as batch_op:
        batch_op.drop_index('ix_procedure_events_tenant_request')

    op.drop_table('procedure_events')
    with op.batch_alter_table('procedure_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_procedure_attachments_tenant_request')

    op.drop_table('procedure_attachments')
    with op.batch_alter_table('procedure_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_procedure_requests_tenant_status_created')
        batch_op.drop_index('ix_procedure_requests_tenant_member')
        batch_op.drop_index('ix_procedure_requests_tenant_fingerprint')
        batch_op.drop_index('ix_procedure_requests_tenant_exported')

    op.drop_table('procedure_requests')
    op.drop_table('procedure_counters')
