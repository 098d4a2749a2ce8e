"""The vendor console's mail actions: retry a city's waiting and failed mails (audited).

The figures themselves (pending, retrying, failed per city) come from one GROUP BY in
:mod:`.overview`; the retry is :func:`waterportal.mail.services.retry_mail`, the service
``flask outbox retry --failed --city`` calls too.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for

from waterportal.core.web import client_address
from waterportal.extensions import db
from waterportal.mail.services import retry_mail
from waterportal.tenancy.registry import get_registry
from waterportal.tenancy.schemas import SLUG
from waterportal.vendor_console.auth import vendor_required
from waterportal.vendor_console.blueprint import vendor


@vendor.post("/cities/<slug>/mail/retry")
@vendor_required
def retry_city_mail(slug: str):
    """メールの再送: the city's mails waiting after failed tries, and those that failed for
    good (unless their code has expired), are due now; recorded in the city's audit log."""
    # A slug that cannot be one (a NUL would reach PostgreSQL, which refuses it) is no city.
    tenant = get_registry().by_slug(slug) if SLUG.fullmatch(slug) else None
    if tenant is None:
        abort(404)
    result = retry_mail(g.vendor_staff.actor, failed=True, tenant=tenant, remote_addr=client_address())
    db.session.commit()
    waiting, revived = result.waiting.get(tenant.slug, 0), result.revived.get(tenant.slug, 0)
    message = f"{tenant.name}: 再送待ち {waiting} 件、送信失敗 {revived} 件を、すぐに再送します。"
    if result.skipped_expired:
        message += f"確認コードの有効期限が切れた {result.skipped_expired} 件は再送しません。"
    flash(message, "info")
    return redirect(url_for("vendor.index"), code=303)
