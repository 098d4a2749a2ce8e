"""Blueprint ``simulator``: 料金シミュレーション, open to everyone (:mod:`.simulator_views`)."""
from __future__ import annotations

from flask import Blueprint

simulator = Blueprint("simulator", __name__, url_prefix="/simulator")
