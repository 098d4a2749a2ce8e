"""Blueprint ``pages``: the city's public information pages (:mod:`.views`)."""
from __future__ import annotations

from flask import Blueprint

pages = Blueprint("pages", __name__)
