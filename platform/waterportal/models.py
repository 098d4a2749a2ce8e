"""Import every model module so SQLAlchemy's metadata (and Alembic) knows all tables."""
from __future__ import annotations

from waterportal.accounts.models import Member, MemberSession, MemberUnlockLink, VerificationCode  # noqa: F401
from waterportal.accounts.registration.models import RegistrationDraft  # noqa: F401
from waterportal.admin.models import SettingsRevision, StaffMember, StaffSession, StaffUnlockLink  # noqa: F401
from waterportal.alerts.models import AreaAlert, AreaAlertArea, AreaAlertOptOut, AreaAlertText  # noqa: F401
from waterportal.audit.models import AuditEntry  # noqa: F401
from waterportal.billing.households import HouseholdMedian  # noqa: F401
from waterportal.billing.leaks import BillAlert  # noqa: F401
from waterportal.billing.models import Bill, Document  # noqa: F401
from waterportal.contracts.models import (
    Contract,  # noqa: F401
    MemberContract,  # noqa: F401
)
from waterportal.imports.models import ImportBatch  # noqa: F401
from waterportal.inquiries.models import Inquiry  # noqa: F401
from waterportal.mail.models import OutboxMessage  # noqa: F401
from waterportal.notices.models import Notice, NoticeText  # noqa: F401
from waterportal.procedures.models import (  # noqa: F401
    ProcedureAttachment,
    ProcedureCounter,
    ProcedureEvent,
    ProcedureRequest,
)
from waterportal.readings.models import MeterReading, Watch  # noqa: F401
from waterportal.tenancy.models import Tenant, TenantAsset, TenantHost  # noqa: F401
from waterportal.vendor_console.models import VendorCityLink, VendorSession, VendorStaff  # noqa: F401
