"""What the benchmarks' smoke runs share: the environment their scripts run in."""
from __future__ import annotations

import os

# libfaketime (make test-night) breaks time.sleep in a child Python (EINVAL, see
# tests/clock.py); the scripts time themselves, so they run on the real clock.
_NOT_PASSED = ("LD_PRELOAD", "FAKETIME")


def bench_env() -> dict[str, str]:
    """This environment without FLASK_* settings (the script sets its own) and libfaketime."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("FLASK_") and key not in _NOT_PASSED}
