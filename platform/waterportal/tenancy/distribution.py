"""Citus co-location: which tables distribute by ``tenant_id``, what keeps them distributable,
and the DDL only a Citus deployment runs (``flask tenant citus-ddl``).

Citus's multi-tenant model shards every city-owned table by ``tenant_id`` and keeps one
city's rows of every table on the same node (co-location), so a page's joins and a
transaction's writes stay on one node. That needs, per distributed table:

* the distribution column in the primary key and in every unique key and unique index;
* every foreign key to another distributed table to carry ``tenant_id`` on both sides
  (``(tenant_id, x_id) -> x(tenant_id, id)``, :func:`~waterportal.tenancy.models.tenant_fk`);
* ``tenant_id NOT NULL``.

The schema everyone runs keeps ``PRIMARY KEY (id)`` (the ORM's identity, so
``session.get(Model, id)`` works everywhere, and SQLite's autoincrement) and carries
``UNIQUE (tenant_id, id)`` on every city-owned table. :func:`distribution_problems` checks
that on the models (``tests/tenancy/test_distribution.py``); :func:`citus_ddl` is the last
step, on a Citus coordinator only: swap each primary key to ``(tenant_id, id)``, then
``create_reference_table`` for the platform's own tables and ``create_distributed_table``
for the city-owned ones, co-located with :data:`ANCHOR`.
"""
from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, UniqueConstraint

DISTRIBUTION_COLUMN = "tenant_id"
# The first distributed table; every other one is created with colocate_with => ANCHOR.
# Contracts: every city has them, and they are the root most city rows hang from.
ANCHOR = "contracts"
# Tables with a tenant_id column that are reference tables (a copy on every node), and why.
REFERENCE = {
    "tenant_hosts": "read to find the city of a request's Host, before there is a city; "
                    "a host is unique across all cities",
}


def reference_tables(metadata: MetaData) -> list[Table]:
    """The platform's own tables (no ``tenant_id``: cities, vendor staff) and :data:`REFERENCE`,
    in dependency order."""
    return [t for t in metadata.sorted_tables if DISTRIBUTION_COLUMN not in t.c or t.name in REFERENCE]


def distributed_tables(metadata: MetaData) -> list[Table]:
    """The city-owned tables, in dependency order (a referenced table comes first)."""
    return [t for t in metadata.sorted_tables if DISTRIBUTION_COLUMN in t.c and t.name not in REFERENCE]


def _unique_keys(table: Table) -> list[tuple[str, list[str]]]:
    keys = [(c.name, [col.name for col in c.columns])
            for c in table.constraints if isinstance(c, UniqueConstraint)]
    keys += [(i.name, [getattr(e, "name", str(e)) for e in i.expressions]) for i in table.indexes if i.unique]
    return keys


def distribution_problems(metadata: MetaData) -> list[str]:
    """Why a city-owned table of ``metadata`` could not be distributed by ``tenant_id``, one
    line per table and constraint; ``[]`` when every one can."""
    distributed = {t.name for t in distributed_tables(metadata)}
    problems = []
    for table in metadata.sorted_tables:
        name = table.name
        if name not in distributed:
            problems += [f"{name}: reference table, but {fk.name} points at the distributed table "
                         f"{fk.referred_table.name}" for fk in table.foreign_key_constraints
                         if fk.referred_table.name in distributed]
            continue
        if table.c[DISTRIBUTION_COLUMN].nullable:
            problems.append(f"{name}: {DISTRIBUTION_COLUMN} is nullable")
        key = [c.name for c in table.primary_key.columns]
        if DISTRIBUTION_COLUMN not in key:
            wanted = {DISTRIBUTION_COLUMN, *key}
            if not any(set(cols) == wanted for _, cols in _unique_keys(table)):
                problems.append(f"{name}: no UNIQUE ({DISTRIBUTION_COLUMN}, {', '.join(key)}) to become its "
                                "primary key (add TenantScoped.tenant_key() to __table_args__)")
        problems += [f"{name}: unique key {key_name} ({', '.join(cols)}) lacks {DISTRIBUTION_COLUMN}"
                     for key_name, cols in _unique_keys(table) if DISTRIBUTION_COLUMN not in cols]
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name in distributed and not _carries_city(fk):
                problems.append(f"{name}: foreign key {fk.name} ({', '.join(fk.column_keys)}) -> "
                                f"{fk.referred_table.name} lacks {DISTRIBUTION_COLUMN} on both sides "
                                "(use tenancy.models.tenant_fk)")
    return problems


def _carries_city(fk: ForeignKeyConstraint) -> bool:
    return any(element.parent.name == DISTRIBUTION_COLUMN and element.column.name == DISTRIBUTION_COLUMN
               for element in fk.elements)


def primary_key_swap(metadata: MetaData) -> list[str]:
    """``PRIMARY KEY (id)`` -> ``PRIMARY KEY (tenant_id, id)`` on every city-owned table.

    Plain PostgreSQL accepts it too (``tests/tenancy/test_distribution.py`` applies it): the
    composite foreign keys point at the ``UNIQUE (tenant_id, id)`` keys, which stay.
    """
    statements = []
    for table in distributed_tables(metadata):
        key = [c.name for c in table.primary_key.columns]
        if DISTRIBUTION_COLUMN in key:
            continue
        pk = table.primary_key.name
        statements.append(f"ALTER TABLE {table.name} DROP CONSTRAINT {pk}, "
                          f"ADD CONSTRAINT {pk} PRIMARY KEY ({DISTRIBUTION_COLUMN}, {', '.join(key)})")
    return statements


def distribution_calls(metadata: MetaData) -> list[str]:
    """The Citus calls: reference tables first, then the city-owned tables in dependency order,
    each co-located with :data:`ANCHOR`."""
    statements = [f"SELECT create_reference_table('{t.name}')" for t in reference_tables(metadata)]
    tables = distributed_tables(metadata)
    anchor = [t for t in tables if t.name == ANCHOR]
    for table in anchor + [t for t in tables if t.name != ANCHOR]:
        colocate = "'none'" if table.name == ANCHOR else f"'{ANCHOR}'"
        statements.append(f"SELECT create_distributed_table('{table.name}', '{DISTRIBUTION_COLUMN}', "
                          f"colocate_with => {colocate})")
    return statements


def citus_ddl(metadata: MetaData) -> str:
    """The whole script a Citus coordinator runs once, after ``flask db upgrade``, as the tables'
    owner. Raises ``ValueError`` when a table could not be distributed."""
    problems = distribution_problems(metadata)
    if problems:
        raise ValueError("not distributable:\n" + "\n".join(problems))
    lines = [
        "-- Citus distribution by tenant_id (docs/operations.md, 'Beyond one machine').",
        "-- Run once on the coordinator, as the owner of the tables, after `flask db upgrade`.",
        "BEGIN;",
        "-- 1. Every city-owned table's primary key carries the distribution column.",
        *(f"{s};" for s in primary_key_swap(metadata)),
        "COMMIT;",
        "-- 2. The platform's own tables: a copy on every node.",
        *(f"{s};" for s in distribution_calls(metadata) if "create_reference_table" in s),
        f"-- 3. The city-owned tables, sharded by tenant_id, one city's rows of every table on one node "
        f"(co-located with {ANCHOR}).",
        *(f"{s};" for s in distribution_calls(metadata) if "create_distributed_table" in s),
    ]
    return "\n".join(lines) + "\n"
