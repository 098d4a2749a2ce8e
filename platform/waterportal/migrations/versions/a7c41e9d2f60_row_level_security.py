"""PostgreSQL row-level security on every city-owned table, and the app's roles (issue 9 #11).

Run by the tables' owner. Creates (if missing) the login role ``waterportal_app`` the app
connects as and the ``waterportal_cross`` role for reads across cities, grants them the
tables, and puts the ``tenant_isolation`` policy on every table with a ``tenant_id`` column
(see waterportal.tenancy.row_security). A migration that adds a city-owned table calls
``apply_row_security(op.get_bind())`` again. A no-op on SQLite.

Revision ID: a7c41e9d2f60
Revises: c3f8a1d2e4b7
Create Date: 2026-11-18 10:00:00

"""
from alembic import op

from waterportal.tenancy.row_security import apply_row_security, remove_row_security

# revision identifiers, used by Alembic.
revision = 'a7c41e9d2f60'
down_revision = 'c3f8a1d2e4b7'
branch_labels = None
depends_on = None


def upgrade():
    apply_row_security(op.get_bind())


def downgrade():
    # The roles stay: they belong to the cluster, and other databases may use them.
    remove_row_security(op.get_bind())
