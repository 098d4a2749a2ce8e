"""Area alerts (issue 14 §4): contracts.address_area (the address's 町名/丁目, filled for the
existing contracts by contracts/areas.py area_of), area_alerts, area_alert_areas and
area_alert_optouts. City-owned: UNIQUE (tenant_id, id), composite foreign keys, row security.

Revision ID: e7a3c5b9d1f4
Revises: c9d4e7a2b6f1
Create Date: 2026-11-27 19:20:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.contracts.areas import area_of
from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'e7a3c5b9d1f4'
down_revision = 'c9d4e7a2b6f1'
branch_labels = None
depends_on = None


def _fill_areas(conn) -> None:
    """Each existing contract's area, from its address (the rule lives in Python: one
    UPDATE per batch of 1,000, never one statement per row)."""
    rows = conn.execute(sa.text("SELECT id, address FROM contracts ORDER BY id")).all()
    update = sa.text("UPDATE contracts SET address_area = :area WHERE id = :id")
    for start in range(0, len(rows), 1000):
        batch = [{"id": row[0], "area": area_of(row[1])} for row in rows[start:start + 1000]]
        if batch:
            conn.execute(update, batch)


def upgrade():
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_area', sa.String(length=100), nullable=True))
    op.create_index('ix_contracts_tenant_area', 'contracts', ['tenant_id', 'address_area'], unique=False)
    _fill_areas(op.get_bind())
    op.create_table('area_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('matched_contracts', sa.Integer(), nullable=False),
    sa.Column('matched_members', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=40), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_area_alerts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alerts')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_area_alerts_tenant_id_id'))
    )
    op.create_index('ix_area_alerts_tenant_period', 'area_alerts', ['tenant_id', 'ends_at'], unique=False)
    op.create_table('area_alert_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=100), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'alert_id'], ['area_alerts.tenant_id', 'area_alerts.id'],
                            name=op.f('fk_area_alert_areas_tenant_id_alert_id_area_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_area_alert_areas_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alert_areas')),
    sa.UniqueConstraint('tenant_id', 'alert_id', 'area', name=op.f('uq_area_alert_areas_tenant_id_alert_id_area')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_area_alert_areas_tenant_id_id'))
    )
    op.create_index('ix_area_alert_areas_tenant_area', 'area_alert_areas', ['tenant_id', 'area'], unique=False)
    op.create_table('area_alert_optouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'],
                            name=op.f('fk_area_alert_optouts_tenant_id_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_area_alert_optouts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alert_optouts')),
    sa.UniqueConstraint('tenant_id', 'member_id', 'kind', name=op.f('uq_area_alert_optouts_tenant_id_member_id_kind')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_area_alert_optouts_tenant_id_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('area_alert_optouts')
    op.drop_index('ix_area_alert_areas_tenant_area', table_name='area_alert_areas')
    op.drop_table('area_alert_areas')
    op.drop_index('ix_area_alerts_tenant_period', table_name='area_alerts')
    op.drop_table('area_alerts')
    op.drop_index('ix_contracts_tenant_area', table_name='contracts')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_column('address_area')
