"""A notice's and an area alert's title and body in English and やさしい日本語 (issue 13 §10):
notice_texts and area_alert_texts, one row per notice (alert) and language, deleted with it.
City-owned: UNIQUE (tenant_id, id), a composite foreign key to the notice (alert), row security.

Revision ID: d6b1f4a8c3e7
Revises: a8d2f5c7e1b4
Create Date: 2026-11-27 22:55:00

"""
import sqlalchemy as sa
from alembic import op

from waterportal.tenancy.row_security import apply_row_security

# revision identifiers, used by Alembic.
revision = 'd6b1f4a8c3e7'
down_revision = 'a8d2f5c7e1b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'notice_id'], ['notices.tenant_id', 'notices.id'],
                            name=op.f('fk_notice_texts_tenant_id_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notice_texts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_texts')),
    sa.UniqueConstraint('tenant_id', 'notice_id', 'language', name=op.f('uq_notice_texts_tenant_id_notice_id_language')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_notice_texts_tenant_id_id'))
    )
    op.create_table('area_alert_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'alert_id'], ['area_alerts.tenant_id', 'area_alerts.id'],
                            name=op.f('fk_area_alert_texts_tenant_id_alert_id_area_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_area_alert_texts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alert_texts')),
    sa.UniqueConstraint('tenant_id', 'alert_id', 'language', name=op.f('uq_area_alert_texts_tenant_id_alert_id_language')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_area_alert_texts_tenant_id_id'))
    )
    apply_row_security(op.get_bind())


def downgrade():
    op.drop_table('area_alert_texts')
    op.drop_table('notice_texts')
