"""Row isolation between cities, enforced by the ORM on every query and flush.

1. ``do_orm_execute`` adds ``tenant_id = :current`` to every SELECT/UPDATE/DELETE that
   touches a :class:`TenantScoped` entity, and refuses to run one without a tenant context.
   Vendor jobs that read across cities opt out explicitly with
   ``execution_options(all_tenants=True)``.
2. ``before_flush`` stamps ``tenant_id`` on new rows and refuses rows of another city.
3. Composite unique keys and composite foreign keys (see the models) back this up
   in the database.
"""
from __future__ import annotations

import functools

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from waterportal.core.exceptions import CrossTenantWrite, NoTenantContext, UnscopedStatement
from waterportal.extensions import db
from waterportal.tenancy.context import current_tenant_or_none
from waterportal.tenancy.models import TenantScoped

ALL_TENANTS = "all_tenants"


@functools.cache
def _tenant_tables() -> frozenset[str]:
    return frozenset(
        mapper.local_table.name for mapper in db.Model.registry.mappers if issubclass(mapper.class_, TenantScoped)
    )


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    """True when the statement reads or writes a tenant table.

    ORM entities get the loader criteria. A bare Core table (``Member.__table__``) cannot
    be scoped that way, so it is refused unless the caller opted out with ``all_tenants``
    (and filters on ``tenant_id`` itself, as the bulk importers do).
    """
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return True
    found = False
    for table in find_tables(state.statement, include_joins=True):
        if getattr(table, "name", None) not in _tenant_tables():
            continue
        if "parententity" not in getattr(table, "_annotations", {}):
            raise UnscopedStatement(
                f"Core statement on tenant table {table.name}: use ORM entities, or "
                "execution_options(all_tenants=True) with an explicit tenant_id filter"
            )
        found = True  # e.g. select(func.count()).select_from(Member)
    return found


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # Lazy loads start from an already-scoped parent row; the criteria were
        # propagated by the parent query's loader options.
        return
    if state.execution_options.get(ALL_TENANTS):
        return
    if not _touches_tenant_data(state):
        return
    tenant = current_tenant_or_none()
    if tenant is None:
        raise NoTenantContext(
            "query on tenant-owned data without a tenant context; use tenant_context(...) "
            "or execution_options(all_tenants=True) for a vendor job"
        )
    state.statement = state.statement.options(_city_criteria(tenant.id))


@functools.lru_cache(maxsize=4096)  # more than every city (1,741): one option per city a worker served
def _city_criteria(tenant_id: int):
    """The loader criteria ``tenant_id = :tenant_id`` of one city, built once per city and
    reused for every statement (an option is immutable; building it anew for each of a
    page's statements cost about 0.1 ms each, issue 10)."""
    return with_loader_criteria(
        TenantScoped,
        lambda cls: cls.tenant_id == tenant_id,
        include_aliases=True,
        track_closure_variables=False,
    )


def _guard_flush(session: Session, _flush_context, _instances) -> None:
    tenant = current_tenant_or_none()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None:
            raise NoTenantContext(f"cannot write {type(obj).__name__} without a tenant context")
        if obj.tenant_id is None:
            obj.tenant_id = tenant.id
        elif obj.tenant_id != tenant.id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to tenant {obj.tenant_id}, not {tenant.id}")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and (tenant is None or obj.tenant_id != tenant.id):
            raise CrossTenantWrite(f"{type(obj).__name__} {getattr(obj, 'id', '?')} is not in this tenant")


def install_isolation(session_factory) -> None:
    """Attach the hooks to a session class or sessionmaker (idempotent)."""
    if not event.contains(session_factory, "do_orm_execute", _scope_statement):
        event.listen(session_factory, "do_orm_execute", _scope_statement)
    if not event.contains(session_factory, "before_flush", _guard_flush):
        event.listen(session_factory, "before_flush", _guard_flush)
