"""Blueprint ``accounts``: top page, login, logout (:mod:`.views`) and password reset /
login-ID recovery (:mod:`.recovery.views`)."""
from __future__ import annotations

from flask import Blueprint

accounts = Blueprint("accounts", __name__)
