"""上下水道ポータル: one Flask application serving every city's water & sewer portal."""
from __future__ import annotations

__all__ = ["create_app"]


def create_app(config=None):  # noqa: D103 - thin re-export, see waterportal.app
    from waterportal.app import create_app as _create_app

    return _create_app(config)
