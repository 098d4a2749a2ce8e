"""Mail jobs: bounded expansion retries and the retention's counts (mail/jobs.py, mail/retention.py).

mail_jobs gains ``attempts``, ``next_attempt_at`` and ``last_error`` (a failing expansion backs
off and ends ``failed``) and ``purged_sent`` / ``purged_failed`` (the job's mails the retention
deleted, so its counter still adds up). Row security is applied again: the cross-city role may
now DELETE from mail_outbox and mail_jobs (tenancy/row_security.py ``CROSS_DELETE``), and only
from them.

Revision ID: c5e8a1f3d7b9
Revises: d6b1f4a8c3e7
Create Date: 2026-11-27 23:20:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import CROSS_ROLE, apply_row_security

# revision identifiers, used by Alembic.
revision = 'c5e8a1f3d7b9'
down_revision = 'd6b1f4a8c3e7'
branch_labels = None
depends_on = None

COLUMNS = ('attempts', 'next_attempt_at', 'last_error', 'purged_sent', 'purged_failed')


# Plain ADD/DROP COLUMN (SQLite has both), not a batch that would rebuild the table.
def upgrade():
    op.add_column('mail_jobs', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('mail_jobs', sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
    op.add_column('mail_jobs', sa.Column('last_error', sa.String(length=500), nullable=True))
    op.add_column('mail_jobs', sa.Column('purged_sent', sa.Integer(), server_default='0', nullable=False))
    op.add_column('mail_jobs', sa.Column('purged_failed', sa.Integer(), server_default='0', nullable=False))
    apply_row_security(op.get_bind())


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.exec_driver_sql(f'REVOKE DELETE ON mail_outbox, mail_jobs FROM {CROSS_ROLE}')
    for column in reversed(COLUMNS):
        op.execute(f'ALTER TABLE mail_jobs DROP COLUMN {column}')
