"""漏水の可能性 (issue 14 §1): bills.leak_flagged_at, set by the bills import's leak step with the
bill's row in bill_alerts, so the member pages, which load the bill anyway, ask bill_alerts for
the notice's figures only for a flagged bill (no extra statement for every other bill).

Revision ID: a8d2f5c7e1b4
Revises: b4e7c2a9d5f0
Create Date: 2026-11-27 20:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8d2f5c7e1b4'
down_revision = 'b4e7c2a9d5f0'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite has both), not a batch that would rebuild bills.
def upgrade():
    op.add_column('bills', sa.Column('leak_flagged_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE bills SET leak_flagged_at = (SELECT min(a.created_at) FROM bill_alerts a "
               "WHERE a.tenant_id = bills.tenant_id AND a.bill_id = bills.id) "
               "WHERE id IN (SELECT bill_id FROM bill_alerts)")


def downgrade():
    op.execute('ALTER TABLE bills DROP COLUMN leak_flagged_at')
