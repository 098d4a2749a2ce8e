"""The member's language (issue 13 §10): members.language (ja, en, easy), the language of
their pages after login and of the mail sent to them; existing members are Japanese.

Revision ID: b8f3e1a6c2d4
Revises: e4b8d2f6a9c1
Create Date: 2026-11-27 16:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8f3e1a6c2d4'
down_revision = 'e4b8d2f6a9c1'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite has both), not a batch: a batch rebuilds members on SQLite
# and would lose its expression index uq_members_tenant_login_id_lower.
def upgrade():
    op.add_column('members', sa.Column('language', sa.String(length=8), nullable=False, server_default='ja'))


def downgrade():
    op.execute('ALTER TABLE members DROP COLUMN language')
