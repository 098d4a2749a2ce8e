"""64-bit ids for the tables that grow per contract per period, per mail, per login or per
code (national scale: about 50 million contracts; docs/architecture.md, data; core/ids.py):
their ``id`` and its sequence become ``bigint``, and so does every column holding one of those
ids (the composite foreign keys' ``bill_id``/``contract_id``, mail_jobs.ref_id: a bill id).

PostgreSQL only. On SQLite an ``INTEGER`` is already 64-bit and the keys must stay
``INTEGER PRIMARY KEY`` (the rowid alias), so nothing changes there.

``ALTER COLUMN ... TYPE bigint`` keeps the tables' row security (the policies read
``tenant_id``, which stays ``integer``, as does the distribution column for Citus), their
``keep_city`` trigger, indexes and ``UNIQUE (tenant_id, id)`` keys (rebuilt in place), and
the foreign keys (checked again). Each table is rewritten once, under an ACCESS EXCLUSIVE
lock: on a large database, run it in a maintenance window. A serial column's sequence keeps
its ``integer`` type on a column type change, so ``ALTER SEQUENCE ... AS bigint`` follows
(its maximum moves to bigint's with it).

The downgrade makes them ``integer`` again; it fails (and changes nothing) once an id or
a sequence has passed 2,147,483,647.

Revision ID: b2f7d9e4a6c8
Revises: c5e8a1f3d7b9
Create Date: 2026-11-27 23:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2f7d9e4a6c8'
down_revision = 'c5e8a1f3d7b9'
branch_labels = None
depends_on = None

# Per table (referenced tables first): its id (None: the id stays 32-bit) and the columns
# holding a 64-bit table's id.
COLUMNS = (
    ('contracts', 'id', ()),
    ('bills', 'id', ('contract_id',)),
    ('bill_documents', 'id', ('bill_id', 'contract_id')),
    ('bill_alerts', 'id', ('bill_id', 'contract_id')),
    ('payment_proofs', 'id', ('contract_id',)),
    ('documents', 'id', ('contract_id',)),
    ('meter_readings', 'id', ('contract_id',)),
    ('mail_outbox', 'id', ()),
    ('audit_log', 'id', ()),
    ('member_sessions', 'id', ()),
    ('staff_sessions', 'id', ()),
    ('vendor_sessions', 'id', ()),
    ('verification_codes', 'id', ()),
    ('registration_drafts', 'id', ('contract_id',)),
    ('watches', None, ('contract_id',)),
    ('member_contracts', None, ('contract_id',)),
    ('procedure_requests', None, ('contract_id',)),
    ('mail_jobs', None, ('ref_id',)),
)


def _retype(type_: str, order) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, key, holders in order:
        columns = [key, *holders] if key else list(holders)
        op.execute(f"ALTER TABLE {table} "
                   + ", ".join(f"ALTER COLUMN {column} TYPE {type_}" for column in columns))
        if key:
            op.execute(f"DO $$ DECLARE seq text := pg_get_serial_sequence('{table}', '{key}'); BEGIN "
                       f"IF seq IS NOT NULL THEN EXECUTE format('ALTER SEQUENCE %s AS {type_}', seq); END IF; END $$")


def upgrade():
    _retype('bigint', COLUMNS)


def downgrade():
    _retype('integer', reversed(COLUMNS))
