"""Login-ID recovery (cities with ``login.mode = "login_id"``): email, secret question, mailed link.

The flow never reveals whether an email is registered:

* for an unknown email (or a member without a secret question) a *decoy* question is
  shown, picked from the city's question list by a keyed hash of the email, so the same
  email always gets the same question and decoys look like real ones;
* the answer is verified against a dummy hash then, which costs the same and always fails;
* a right answer does not show the login ID: it mails a link to the registered address,
  so the answer alone is never enough.

Wrong answers are throttled per email and per client address; after too many the
flow is refused for the rest of the window (nothing locks an account for good).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from flask import current_app, url_for

from waterportal.accounts.secret import verify_answer
from waterportal.accounts.services import find_member_by_email
from waterportal.accounts.tokens import LOGIN_RECOVERY, MAX_AGE, make_token
from waterportal.audit import services as audit
from waterportal.core import throttle
from waterportal.core.auth.throttling import wait as throttle_wait
from waterportal.core.text import normalise_email
from waterportal.core.throttle import Rule
from waterportal.mail.services import portal_url, queue_mail
from waterportal.tenancy.context import TenantContext

log = logging.getLogger("waterportal.accounts")

RECOVER_LOOKUP_IP = Rule("recover-lookup-ip", "30 per 1 hour")
RECOVER_ANSWER_EMAIL = Rule("recover-answer-email", "5 per 1 hour")
RECOVER_ANSWER_IP = Rule("recover-answer-ip", "20 per 1 hour")


@dataclass
class AnswerResult:
    """``sent`` (mail queued), ``wrong``, or ``throttled`` with seconds to wait."""

    status: str
    retry_after: int = 0


def start_lookup(tenant: TenantContext, remote_addr: str) -> int:
    """Count one email lookup from ``remote_addr``; seconds to wait when throttled, else 0."""
    wait = throttle_wait(tenant, [(RECOVER_LOOKUP_IP, remote_addr or "-")])
    if not wait:
        throttle.hit(tenant, RECOVER_LOOKUP_IP, remote_addr or "-")
    return wait


def _decoy_question(tenant: TenantContext, email: str) -> str:
    questions = list(tenant.settings["registration"]["secret_questions"]) or ["秘密の質問の答えは?"]
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"decoy-question:{tenant.id}:{email}".encode(), hashlib.sha256).digest()
    return questions[int.from_bytes(digest[:4], "big") % len(questions)]


def recovery_question(tenant: TenantContext, email: str) -> str:
    """The member's secret question, or a stable decoy when there is none to ask."""
    email = normalise_email(email)
    member = find_member_by_email(tenant, email)
    if member is not None and member.secret_question and member.secret_answer_hash:
        return member.secret_question
    return _decoy_question(tenant, email)


def check_answer(tenant: TenantContext, email: str, answer: str, remote_addr: str) -> AnswerResult:
    """Verify the secret answer under the throttles; on success mail the recovery link."""
    email = normalise_email(email)
    rules = [(RECOVER_ANSWER_EMAIL, email or "-"), (RECOVER_ANSWER_IP, remote_addr or "-")]
    wait = throttle_wait(tenant, rules)
    if wait:
        log.warning("recovery answers throttled (tenant=%s)", tenant.slug)
        return AnswerResult("throttled", wait)
    member = find_member_by_email(tenant, email)
    usable = member is not None and bool(member.secret_question)
    stored = member.secret_answer_hash if usable else None
    if not (verify_answer(stored, answer) and usable):
        for rule, key in rules:
            throttle.hit(tenant, rule, key)
        return AnswerResult("wrong")
    token = make_token(tenant, member, LOGIN_RECOVERY)
    queue_mail(
        tenant, member.email, "recovery", member=member, minutes=MAX_AGE[LOGIN_RECOVERY] // 60,
        link=portal_url(tenant, url_for("accounts.recover_account", token=token)),
        valid_seconds=MAX_AGE[LOGIN_RECOVERY],  # not delivered once the link is dead
    )
    audit.record(f"member:{member.id}", "recovery.link_sent", target=f"member:{member.id}", remote_addr=remote_addr)
    return AnswerResult("sent")
