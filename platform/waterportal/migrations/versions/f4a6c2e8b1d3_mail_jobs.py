"""Mail fan-out jobs (issue 10): mail_jobs, the job of each outbox row for its counter, and
the index that finds a contract's members (bill mail).

Revision ID: f4a6c2e8b1d3
Revises: b81f3c5e7a20
Create Date: 2026-11-27 13:30:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'f4a6c2e8b1d3'
down_revision = 'b81f3c5e7a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('recipients_upto', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mail_jobs_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_jobs')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_mail_jobs_tenant_id_id'))
    )
    with op.batch_alter_table('mail_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_mail_jobs_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_mail_jobs_ref', ['tenant_id', 'kind', 'ref_id'], unique=False)
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_mail_outbox_job', ['job_id', 'status'], unique=False)
    with op.batch_alter_table('member_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_member_contracts_tenant_contract', ['tenant_id', 'contract_id'], unique=False)
    # A city-owned table: the tenant policy and the roles' grants (a no-op on SQLite).
    apply_row_security(op.get_bind())


def downgrade():
    with op.batch_alter_table('member_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_member_contracts_tenant_contract')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_job')
        batch_op.drop_column('job_id')
    with op.batch_alter_table('mail_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_jobs_ref')
        batch_op.drop_index('ix_mail_jobs_status')
    op.drop_table('mail_jobs')
