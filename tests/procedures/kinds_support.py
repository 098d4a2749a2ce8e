"""Set-up for the tests of the holder, address, payment and paperless kinds: a city with
the kinds switched on, a member with a linked contract, filing through the service."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

from waterportal.accounts.models import Member
from waterportal.contracts.models import Contract
from waterportal.contracts.services import link_contract
from waterportal.extensions import db
from waterportal.procedures import services
from waterportal.tenancy.context import TenantContext, tenant_context

MY_KINDS = ("holder_change", "billing_address", "payment_method", "paperless")


def with_kinds(tenant: TenantContext, *keys: str, **procedures) -> TenantContext:
    """``tenant`` with ``procedures.enabled`` = ``keys`` (and other [procedures] values)."""
    settings = {key: value for key, value in tenant.settings.items()}
    settings["procedures"] = {**dict(tenant.settings["procedures"]), "enabled": list(keys), **procedures}
    return dataclasses.replace(tenant, settings=settings)


def with_setting(tenant: TenantContext, section: str, **values) -> TenantContext:
    settings = {key: value for key, value in tenant.settings.items()}
    settings[section] = {**dict(tenant.settings[section]), **values}
    return dataclasses.replace(tenant, settings=settings)


@contextlib.contextmanager
def member_with_contract(app, make_member, make_contract, tenant: TenantContext, **contract_fields):
    """Inside the city: ``(member, contract)``, linked."""
    contract_id = make_contract(tenant, **contract_fields)
    member_id = make_member(tenant)
    with app.app_context(), tenant_context(tenant):
        link_contract(tenant, member_id, contract_id)
        yield db.session.get(Member, member_id), db.session.get(Contract, contract_id)


def file(tenant, key, payload, member, contract, today: dt.date | None = None):
    return services.submit_procedure(tenant, key, payload, member=member, contract=contract, today=today)
