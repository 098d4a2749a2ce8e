"""The platform's exception hierarchy: a leaf module (it imports nothing of the app), so the
tenancy modules that raise these never import the HTTP handlers in :mod:`waterportal.core.errors`."""
from __future__ import annotations


class WaterportalError(Exception):
    """Base of every error the platform raises on purpose."""


class NoTenantContext(WaterportalError):
    """A tenant-owned table was touched without a tenant context."""


class UnscopedStatement(NoTenantContext):
    """A Core statement on a tenant table that the ORM criteria cannot scope."""


class CrossTenantWrite(WaterportalError):
    """A flush tried to write a row that belongs to another tenant."""


class SettingsInvalid(WaterportalError):
    """A tenant definition or settings change failed validation.

    ``errors`` maps dotted keys (``password_policy.min_length``) to reasons.
    """

    def __init__(self, errors: dict[str, list[str]], source: str = ""):
        self.errors = errors
        self.source = source
        lines = [f"{key}: {'; '.join(reasons)}" for key, reasons in sorted(errors.items())]
        super().__init__(f"{source + ': ' if source else ''}" + " | ".join(lines))
