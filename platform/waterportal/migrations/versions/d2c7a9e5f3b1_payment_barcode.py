"""電子納付書 (issue 12 §4): bills gain payment_barcode, the 44 digits of the GS1-128
収納代行 data the billing system sends (NULL: not sent).

Revision ID: d2c7a9e5f3b1
Revises: b8f3e1a6c2d4
Create Date: 2026-11-27 16:35:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd2c7a9e5f3b1'
down_revision = 'b8f3e1a6c2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('bills', sa.Column('payment_barcode', sa.String(length=44), nullable=True))


def downgrade():
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('payment_barcode')
