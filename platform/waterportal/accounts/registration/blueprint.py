"""Blueprint ``registration``: 会員登録 under ``/register`` (:mod:`.views`)."""
from __future__ import annotations

from flask import Blueprint

registration = Blueprint("registration", __name__, url_prefix="/register")
