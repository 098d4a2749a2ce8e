"""Blueprint ``portal``: the member's usage, bills and documents under ``/mypage`` (:mod:`.views`)."""
from __future__ import annotations

from flask import Blueprint

portal = Blueprint("portal", __name__, url_prefix="/mypage")
