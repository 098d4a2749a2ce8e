"""Blueprint ``inquiry``: 「メールでのお問い合わせ」 under ``/inquiry`` (:mod:`.views`)."""
from __future__ import annotations

from flask import Blueprint

inquiry = Blueprint("inquiry", __name__, url_prefix="/inquiry")
