"""Blueprint ``procedures``: 各種お手続き under ``/procedures`` (:mod:`.views`)."""
from __future__ import annotations

from flask import Blueprint

procedures = Blueprint("procedures", __name__, url_prefix="/procedures")
