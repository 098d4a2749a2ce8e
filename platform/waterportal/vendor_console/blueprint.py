"""Blueprint ``vendor``: the vendor console under ``/vendor`` (:mod:`.views`), served on
``VENDOR_HOSTS`` only."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint

vendor = Blueprint(
    "vendor", __name__, url_prefix="/vendor", template_folder="templates",
    # The console shares the staff console's stylesheet (one look for both consoles).
    static_folder=str(Path(__file__).parent.parent / "admin" / "static"), static_url_path="/static",
)
