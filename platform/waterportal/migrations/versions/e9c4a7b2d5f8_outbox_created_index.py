"""An index on mail_outbox.created_at for the daily purge (mail/retention.py): the mails past
the retention are found by a range on the oldest rows, not by reading the whole outbox (at
national scale some hundred million rows held for 90 days).

Revision ID: e9c4a7b2d5f8
Revises: b2f7d9e4a6c8
Create Date: 2026-11-27 23:25:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e9c4a7b2d5f8'
down_revision = 'b2f7d9e4a6c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_mail_outbox_created', 'mail_outbox', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_mail_outbox_created', table_name='mail_outbox')
