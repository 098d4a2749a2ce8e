"""The registry of procedure kinds (使用開始, 使用中止, ...): what each asks, who may file it,
how its summary and its CSV columns look.

A kind lives in its own module under ``waterportal/procedures/catalog/`` and registers itself
with one line at the end of the module::

    register(ProcedureKind("move_in", "水道の使用開始", MoveInSchema, allows_anonymous=True))

:func:`load_catalog` imports every module of that package, so adding a module is all it
takes (its key must also be listed in ``tenancy.schemas.PROCEDURE_KINDS``, the keys a city
may enable; a test keeps both lists equal).

The payload schema is a marshmallow schema whose field names are the form's field names
and the payload's keys. A field's ``metadata={"label": "使用開始日"}`` names it in the
receipt page, the receipt mail and the CSV header; fields without a label are not shown.
Rules that need the city or the database (date windows, the city's list of reduction
kinds, matching a contract) go in the kind's ``check`` hook, which may also set the
contract the request is about (anonymous 使用中止).
"""
from __future__ import annotations

import datetime as dt
import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marshmallow import Schema

from waterportal.procedures import catalog
from waterportal.tenancy.context import TenantContext

if TYPE_CHECKING:
    from waterportal.accounts.models import Member
    from waterportal.contracts.models import Contract


class ProcedureInvalid(Exception):
    """The payload breaks a rule: ``errors`` maps a form field (or ``_form``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(f"procedure invalid: {sorted(errors)}")


@dataclass
class KindContext:
    """What a kind's ``check`` hook sees. ``contract`` may be set by the hook (a contract it
    matched for an applicant without an account); ``remote_addr`` is for throttles."""

    tenant: TenantContext
    today: dt.date
    member: Member | None = None
    contract: Contract | None = None
    email: str = ""
    remote_addr: str = ""


# (tenant context, validated data) -> None; raises ProcedureInvalid. May set ctx.contract.
Check = Callable[[KindContext, dict[str, Any]], None]
# (tenant, the stored payload with sensitive fields masked) -> rows of (label, value).
Summary = Callable[[TenantContext, dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class ProcedureKind:
    """One kind of procedure.

    - ``key``: stable identifier (settings, URLs ``/procedures/new/<key>``, CSV ``kind``).
    - ``label``: the Japanese name shown to citizens and staff.
    - ``schema``: marshmallow schema of the payload (strings in, cleaned values out; dates
      as ``date``, stored in the payload as ISO strings).
    - ``template``: the form's fields (``themes/default/templates/procedures/kinds/<key>.html``),
      rendered inside the generic form page with ``values`` and ``errors``.
    - ``allows_anonymous``: may be filed without logging in (email verified by a code).
    - ``needs_contract``: is about one contract (a linked one for a member; a kind that also
      allows anonymous applicants matches one in ``check``).
    - ``sensitive``: payload keys stored encrypted and shown masked (last 3 digits).
    - ``attachments``: accepts files (images/PDF; limits in ``[procedures]``).
    - ``attachments_required``: at least one file must come with it (漏水減額: the receipt).
    - ``csv_columns``: (header, payload key) in export order; default: every labelled field.
    - ``summary``: rows for the receipt page and mail; default: every labelled field.
    - ``description``: one line on the menu of procedures.
    - ``order``: position on the menu.
    """

    key: str
    label: str
    schema: type[Schema]
    template: str = ""
    allows_anonymous: bool = False
    needs_contract: bool = False
    sensitive: tuple[str, ...] = ()
    attachments: bool = False
    attachments_required: bool = False
    check: Check | None = None
    csv_columns: tuple[tuple[str, str], ...] = ()
    summary: Summary | None = None
    description: str = ""
    order: int = 100

    @property
    def needs_login(self) -> bool:
        """Only members may file it."""
        return not self.allows_anonymous

    @property
    def form_template(self) -> str:
        return self.template or f"procedures/kinds/{self.key}.html"

    def labelled_fields(self) -> list[tuple[str, str]]:
        """(payload key, label) of every field with a ``label``, in the schema's order."""
        return [
            (name, f.metadata["label"]) for name, f in self.schema().fields.items() if f.metadata.get("label")
        ]

    def columns(self) -> tuple[tuple[str, str], ...]:
        """The CSV columns of this kind: (header, payload key)."""
        return self.csv_columns or tuple((label, name) for name, label in self.labelled_fields())


KINDS: dict[str, ProcedureKind] = {}


def register(kind: ProcedureKind) -> ProcedureKind:
    """Add ``kind`` to :data:`KINDS` (a second kind with the same key is a programming error)."""
    existing = KINDS.get(kind.key)
    if existing is not None and existing is not kind:
        raise ValueError(f"procedure kind {kind.key!r} registered twice")
    KINDS[kind.key] = kind
    return kind


@functools.cache
def load_catalog() -> dict[str, ProcedureKind]:
    """Import every module of ``waterportal.procedures.catalog`` (each registers its kinds).

    Once per process: the folder scan cost ~0.7 ms, paid on every get_kind() before."""
    for module in pkgutil.iter_modules(catalog.__path__):
        importlib.import_module(f"{catalog.__name__}.{module.name}")
    return KINDS


def ordered() -> list[ProcedureKind]:
    """Every registered kind, in menu order."""
    load_catalog()
    return sorted(KINDS.values(), key=lambda k: (k.order, k.key))


def get_kind(key: str) -> ProcedureKind | None:
    """The kind registered as ``key``, or None."""
    load_catalog()
    return KINDS.get(key)
