"""Tenants keep their effective settings, validated when written (issue 10: the registry
loads 1,741 cities without running the schema on each). NULL until the next write: the
registry validates such a city as before.

Revision ID: b81f3c5e7a20
Revises: e2b9d4c61f03
Create Date: 2026-11-27 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b81f3c5e7a20'
down_revision = 'e2b9d4c61f03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('effective')
