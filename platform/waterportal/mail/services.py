"""Queue mail in the outbox, in the same transaction as the change that causes it.

Mail bodies are plain-text Jinja templates resolved through the city's template chain
(``mail/<name>.txt``: a city may override any of them). The first line of the rendered
template is the subject, then a blank line, then the body; the city's signature is
appended. Links are built on the city's primary host (:func:`portal_url`), never on the
request's Host header.
"""
from __future__ import annotations

from email.utils import formataddr

from flask import current_app

from waterportal.extensions import db
from waterportal.mail.models import OutboxMessage
from waterportal.tenancy.context import TenantContext
from waterportal.tenancy.templating import chain


def portal_url(tenant: TenantContext, path: str = "/") -> str:
    """Absolute URL on the city's primary host (config PORTAL_BASE_URL, e.g. https://{host})."""
    base = current_app.config.get("PORTAL_BASE_URL", "https://{host}").format(host=tenant.primary_host)
    return base.rstrip("/") + "/" + path.lstrip("/")


def render_mail(tenant: TenantContext, template: str, **context) -> tuple[str, str]:
    """Render ``mail/<template>.txt`` for ``tenant``; return (subject, body with signature)."""
    env = current_app.jinja_env
    tmpl = env.select_template(chain(tenant, f"mail/{template}.txt"))
    text = tmpl.render(tenant=tenant, settings=tenant.settings, portal_url=lambda p="/": portal_url(tenant, p), **context)
    subject, _, body = text.strip("\n").partition("\n")
    signature = tenant.settings["mail"].get("signature", "")
    body = body.strip("\n") + "\n"
    if signature:
        body += f"\n――――――――――――――――――――\n{tenant.portal_name}\n{signature}\n"
    return subject.strip(), body


def queue_mail(tenant: TenantContext, to_address: str, template: str, **context) -> OutboxMessage:
    """Add a mail to the outbox of ``tenant`` (flushed, not committed: the caller commits).

    It is delivered right after the commit (see mail.sender) and retried with backoff.
    """
    subject, body = render_mail(tenant, template, **context)
    mail_settings = tenant.settings["mail"]
    message = OutboxMessage(
        tenant_id=tenant.id,
        to_address=to_address,
        sender=formataddr((mail_settings["sender_name"], mail_settings["sender_address"])),
        subject=subject,
        body=body,
        kind=template,
    )
    db.session.add(message)
    db.session.flush()
    return message
