"""Outbox: a stable Message-ID per mail and the expiry of code/link mails (issue 9 #7, #9).

Revision ID: 5d1e0c7a9b21
Revises: a7c41e9d2f60
Create Date: 2026-11-18 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d1e0c7a9b21'
down_revision = 'a7c41e9d2f60'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows keep message_id NULL: the sender gives them one in the claim, before sending.
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('message_id')
