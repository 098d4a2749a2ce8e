"""上下水道ポータル: one Flask application serving every city's water & sewer portal."""
from __future__ import annotations

__all__ = ["create_app"]


def create_app(config=None):  # noqa: D103 - thin re-export, see waterportal.app
    # Lazy on purpose: every `import waterportal.<module>` runs this file first, and
    # app.py imports every package, so a top-level import here would be a real cycle.
    from waterportal.app import create_app as _create_app  # noqa: PLC0415 - see above

    return _create_app(config)
