"""The payment-result import (issue 12 §4): bills gain paid_via, the channel a bill was paid
through as the collector reported it (コンビニ, スマホ決済, ...; NULL: not reported).

Revision ID: a5e9c3d7b2f8
Revises: d2c7a9e5f3b1
Create Date: 2026-11-27 16:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a5e9c3d7b2f8'
down_revision = 'd2c7a9e5f3b1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('bills', sa.Column('paid_via', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('paid_via')
